#include "termsafe.h"

int
termsafe_passes(unsigned char c, unsigned rule)
{
	if (c < 0x20)
		return (rule & TERMSAFE_LINES) && (c == '\n' || c == '\t');
	if (c == 0x7f)
		return 0;
	if (c >= 0x80)
		return !(rule & TERMSAFE_ASCII);
	return !((rule & TERMSAFE_QUOTES) && (c == '"' || c == '\\'));
}

size_t
termsafe_copy(char *out, size_t cap, const void *p, size_t n, unsigned rule, size_t *outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int as_is = termsafe_passes(s[i], rule);
		size_t width = as_is || (rule & TERMSAFE_DOT) ? 1 : 4;

		if (o + width >= cap)
			break;
		if (as_is) {
			out[o++] = (char)s[i];
		} else if (rule & TERMSAFE_DOT) {
			out[o++] = '.';
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[s[i] >> 4];
			out[o++] = hex[s[i] & 15];
		}
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return i;
}
