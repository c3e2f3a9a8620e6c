/* XXX: keeps libpki.a non-empty until the pki library lands; delete then. */
int pki_placeholder(void);
int
pki_placeholder(void)
{
	return 0;
}
