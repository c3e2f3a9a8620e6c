/*
 * squirrel-pki key | ca | csr | sign | show | verify: the tutorial's certificate authority.
 * Each handler parses its options, reads the files, calls one libpki function, writes the
 * result and prints one line; every failure is one line naming the file, with an exit code
 * from enum pki_exit. The helpers below print their own failure and return its exit code
 * (never 0), or 0 to go on: a handler returns whatever is not 0.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "fs.h"
#include "msg.h"
#include "pass.h"
#include "pki.h"
#include "tls_words.h"

/* Inputs: keys, CSRs, certificates and CA bundles (the system bundle is about 200 KiB). */
#define INPUT_MAX (512 * 1024)
/* Most --san options one csr takes (the library's limit). */
#define MAX_SAN_ARGS PKI_MAX_SANS
/* Longest --days: a hundred years is already absurd for a certificate. */
#define DAYS_MAX 36500

/* One buffer per input a handler reads at once: CSR or CA file, key or leaf, CA certificate. */
static unsigned char in_a[INPUT_MAX], in_b[INPUT_MAX], in_c[INPUT_MAX];

static const char usage_key[] =
	"usage: squirrel-pki key --out FILE [--type rsa2048|rsa3072|rsa4096|ec-p256]\n"
	"                        [--password-file FILE | --no-password] [--force]\n";
static const char usage_ca[] =
	"usage: squirrel-pki ca --key KEY --out CERT --cn NAME [--country C] [--state ST]\n"
	"                       [--locality L] [--org O] [--days N] [--not-before TIME]\n"
	"                       [--password-file FILE] [--force]\n";
static const char usage_csr[] =
	"usage: squirrel-pki csr --key KEY --out CSR --cn NAME [--san NAME]... [--country C]\n"
	"                        [--state ST] [--locality L] [--org O] [--password-file FILE]\n"
	"                        [--force]\n";
static const char usage_sign[] =
	"usage: squirrel-pki sign --csr CSR --ca-cert CACERT --ca-key CAKEY --out CERT\n"
	"                         [--days N] [--not-before TIME] [--ca-password-file FILE]\n"
	"                         [--client] [--force]\n";
static const char usage_show[] = "usage: squirrel-pki show FILE... [--password-file FILE]\n";
static const char usage_verify[] =
	"usage: squirrel-pki verify --ca CACERT CERT [--host NAME] [--strict]\n";

/* Everything any subcommand takes; each handler rejects what it does not use. */
struct opts {
	const char *out, *type, *password_file, *key, *days, *not_before, *csr, *ca_cert, *ca_key,
		*ca_password_file, *ca, *host;
	struct pki_name name;
	const char *san[MAX_SAN_ARGS];
	size_t nsan;
	int no_password, force, client, strict;
	int help; /* --help was answered: the handler ends with exit 0 */
	int argc; /* positional arguments, moved to the front of argv */
	char **argv;
};

enum opt_kind {
	OPT_TEXT, /* a value, stored as a const char * */
	OPT_FLAG, /* no value: the int is set to 1 */
	OPT_LIST, /* --san: each value is appended to san[] */
};

/*
 * One long option: where parse() stores it in struct opts, and the letter of its class:
 * a subcommand takes the options whose letters are in its `allow` string ('h', --help, is
 * taken by all).
 */
struct opt_spec {
	const char *name;
	enum opt_kind kind;
	char class;
	size_t field;
};

#define TEXT(n, c, f)                                                                              \
	{                                                                                          \
		.name = n, .kind = OPT_TEXT, .class = c, .field = offsetof(struct opts, f)         \
	}
#define FLAG(n, c, f)                                                                              \
	{                                                                                          \
		.name = n, .kind = OPT_FLAG, .class = c, .field = offsetof(struct opts, f)         \
	}

static const struct opt_spec opt_specs[] = {
	TEXT("out", 'o', out),
	TEXT("type", 't', type),
	TEXT("password-file", 'p', password_file),
	FLAG("no-password", 'P', no_password),
	FLAG("force", 'f', force),
	TEXT("key", 'k', key),
	TEXT("country", 'n', name.country),
	TEXT("state", 'n', name.state),
	TEXT("locality", 'n', name.locality),
	TEXT("org", 'n', name.org),
	TEXT("cn", 'n', name.cn),
	TEXT("days", 'd', days),
	TEXT("not-before", 'd', not_before),
	{.name = "san", .kind = OPT_LIST, .class = 's'},
	TEXT("csr", 'c', csr),
	TEXT("ca-cert", 'c', ca_cert),
	TEXT("ca-key", 'c', ca_key),
	TEXT("ca-password-file", 'c', ca_password_file),
	FLAG("client", 'c', client),
	TEXT("ca", 'v', ca),
	TEXT("host", 'v', host),
	FLAG("strict", 'v', strict),
	/* Last: -h stands for it. */
	FLAG("help", 'h', help),
};

#undef TEXT
#undef FLAG

#define NOPTS (sizeof(opt_specs) / sizeof(opt_specs[0]))
/* getopt_long's value for opt_specs[i] is OPT_BASE + i, above every short option's. */
#define OPT_BASE 256

static int usage_error(const char *cmd, const char *fmt, ...) MSG_FMT(2, 3);

static int
usage_error(const char *cmd, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	msg_error("%s: %s (see 'squirrel-pki %s --help')", cmd, what, cmd);
	return PKI_EXIT_USAGE;
}

/* Store an option's value (optarg; NULL for a flag) where spec says. 0 or an exit code. */
static int
store(const char *cmd, const struct opt_spec *spec, const char *value, struct opts *o)
{
	char *field = (char *)o + spec->field;

	switch (spec->kind) {
	case OPT_TEXT: *(const char **)(void *)field = value; break;
	case OPT_FLAG: *(int *)(void *)field = 1; break;
	case OPT_LIST:
		if (o->nsan == MAX_SAN_ARGS)
			return usage_error(cmd, "more than %d --san options", MAX_SAN_ARGS);
		o->san[o->nsan++] = value;
		break;
	}
	return 0;
}

/*
 * Parse argv (argv[0] is the subcommand) against the options whose class letters are in
 * `allow`. Returns 0 to go on (with o->help set when --help was answered: the handler then
 * returns 0 at once), or an exit code.
 */
static int
parse(int argc, char **argv, const char *allow, const char *usage, struct opts *o)
{
	struct option longopts[NOPTS + 1];
	const char *cmd = argv[0];
	int c, rc;

	memset(o, 0, sizeof(*o));
	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < NOPTS; i++) {
		longopts[i].name = opt_specs[i].name;
		longopts[i].has_arg =
			opt_specs[i].kind == OPT_FLAG ? no_argument : required_argument;
		longopts[i].val = OPT_BASE + (int)i;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const struct opt_spec *spec;

		if (c == '?')
			return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		if (c == ':')
			return usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		spec = c == 'h' ? &opt_specs[NOPTS - 1] : &opt_specs[c - OPT_BASE];
		/* By its name: argv[optind - 1] is the value when it came as a separate word. */
		if (spec->class != 'h' && strchr(allow, spec->class) == NULL)
			return usage_error(cmd, "option '--%s' does not apply here", spec->name);
		if ((rc = store(cmd, spec, optarg, o)) != 0)
			return rc;
		if (o->help) {
			cmd_printf("%ssee squirrel-pki(1) for details\n", usage);
			return 0;
		}
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	return 0;
}

static int
require(const char *cmd, const char *value, const char *option)
{
	if (value == NULL || value[0] == '\0')
		return usage_error(cmd, "%s is required", option);
	return 0;
}

/* ---- files ----------------------------------------------------------------------------- */

static int
read_input(const char *path, unsigned char *buf, size_t *len)
{
	int rc = fs_read(path, buf, INPUT_MAX, len);

	if (rc == -EFBIG) {
		msg_error("%s: too large for a key, CSR or certificate (over %d KiB)", path,
			  INPUT_MAX / 1024);
		return PKI_EXIT_READ;
	}
	if (rc < 0) {
		msg_error("%s: cannot read: %s", path, strerror(-rc));
		return PKI_EXIT_READ;
	}
	if (*len == 0) {
		msg_error("%s: the file is empty", path);
		return PKI_EXIT_INPUT;
	}
	return 0;
}

/*
 * Refuse early, before a slow key generation or a password prompt: an --out that exists
 * (unless --force), and always an --out that is one of the command's inputs, which --force
 * would replace by what was made from it (a CA key by its certificate: the key is lost).
 */
static int
refuse_existing(const struct opts *o)
{
	const struct {
		const char *path, *option;
	} in[] = {
		{.path = o->key, .option = "--key"},
		{.path = o->password_file, .option = "--password-file"},
		{.path = o->csr, .option = "--csr"},
		{.path = o->ca_cert, .option = "--ca-cert"},
		{.path = o->ca_key, .option = "--ca-key"},
		{.path = o->ca_password_file, .option = "--ca-password-file"},
	};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		if (in[i].path != NULL && fs_same_file(o->out, in[i].path)) {
			msg_error("%s: is both --out and %s; writing it would lose that input "
				  "(choose another --out)",
				  o->out, in[i].option);
			return PKI_EXIT_USAGE;
		}
	if (!o->force && fs_exists(o->out)) {
		msg_error("%s: already exists, left untouched (use --force to replace it)", o->out);
		return PKI_EXIT_EXISTS;
	}
	return 0;
}

static int
write_output(const char *path, const void *data, size_t len, mode_t mode, int force)
{
	int rc = fs_write_atomic(path, data, len, mode, force);

	if (rc == -EEXIST) {
		msg_error("%s: already exists, left untouched (use --force to replace it)", path);
		return PKI_EXIT_EXISTS;
	}
	if (rc < 0) {
		msg_error("%s: cannot write: %s", path, strerror(-rc));
		return PKI_EXIT_WRITE;
	}
	return 0;
}

/* ---- passwords ------------------------------------------------------------------------- */

static int
password_file_error(const char *file, int rc)
{
	if (rc == PASS_EREAD)
		msg_error("%s: cannot read the password: %s", file, strerror(errno));
	else
		msg_error("%s: %s (the first line is the password)", file, pass_strerror(rc));
	return PKI_EXIT_PASSWORD;
}

/* The password to open keyfile: from file, else asked on the terminal, else refused. */
static int
password_for(const char *keyfile, const char *file, const char *option, char *buf, size_t cap)
{
	char prompt[PATH_MAX + 32];
	int rc;

	if (file != NULL) {
		rc = pass_read_file(file, buf, cap);
		return rc == 0 ? 0 : password_file_error(file, rc);
	}
	if (!pass_have_tty()) {
		msg_error(
			"%s: the key is encrypted and there is no terminal to ask for its password "
			"(use %s FILE)",
			keyfile, option);
		return PKI_EXIT_PASSWORD;
	}
	snprintf(prompt, sizeof(prompt), "Password for %s: ", keyfile);
	rc = pass_prompt(prompt, NULL, buf, cap);
	if (rc != 0) {
		msg_error("%s: %s", keyfile, pass_strerror(rc));
		return PKI_EXIT_PASSWORD;
	}
	return 0;
}

/* Read, unlock and decode the private key at path into der (the caller wipes it). */
static int
load_key(const char *path, const char *password_file, const char *option, unsigned char *der,
	 size_t cap, size_t *derlen)
{
	char password[PASS_MAX + 1];
	size_t len = 0;
	int rc, encrypted;

	rc = read_input(path, in_b, &len);
	if (rc != 0)
		return rc;
	encrypted = pki_key_is_encrypted(in_b, len);
	if (encrypted) {
		rc = password_for(path, password_file, option, password, sizeof(password));
		if (rc != 0) {
			explicit_bzero(in_b, len);
			return rc;
		}
	} else if (password_file != NULL) {
		msg_note("%s: the key is not encrypted; %s is not needed", path, option);
	}
	rc = pki_key_decode(in_b, len, encrypted ? password : NULL, der, cap, derlen);
	explicit_bzero(password, sizeof(password));
	explicit_bzero(in_b, len);
	switch (rc) {
	case 0: return 0;
	case PKI_EPASSWORD:
		if (password_file != NULL)
			msg_error("%s: wrong password (check %s)", path, password_file);
		else
			msg_error("%s: wrong password (run it again and retype it)", path);
		return PKI_EXIT_PASSWORD;
	case PKI_ENEEDPASS:
		msg_error("%s: %s (use %s FILE)", path, pki_strerror(rc), option);
		return PKI_EXIT_PASSWORD;
	case PKI_EKEYTYPE: msg_error("%s: %s", path, pki_strerror(rc)); return PKI_EXIT_INPUT;
	default:
		msg_error(
			"%s: %s (expected a PEM or DER private key: PRIVATE KEY, ENCRYPTED PRIVATE "
			"KEY, RSA PRIVATE KEY or EC PRIVATE KEY)",
			path, pki_strerror(rc));
		return PKI_EXIT_INPUT;
	}
}

static int
parse_days(const char *cmd, const char *s, long *days)
{
	char *end;

	if (s == NULL) {
		*days = PKI_DEFAULT_DAYS;
		return 0;
	}
	errno = 0;
	*days = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *days < 1 || *days > DAYS_MAX)
		return usage_error(
			cmd,
			"--days '%s' is not a whole number of days from 1 to 36500 (for an "
			"expired certificate use --not-before -2d --days 1)",
			s);
	return 0;
}

static int
parse_validity(const char *cmd, const struct opts *o, time_t now, time_t *nb, time_t *na)
{
	long days;
	int rc = parse_days(cmd, o->days, &days);

	if (rc != 0)
		return rc;
	*nb = now;
	if (o->not_before != NULL && pki_time_parse(o->not_before, now, nb) < 0)
		return usage_error(cmd,
				   "--not-before '%s' is not a time (now, -2d, +1h, @EPOCH, "
				   "2024-05-01 or 2024-05-01T12:00:00Z)",
				   o->not_before);
	*na = *nb + (time_t)days * 86400;
	return 0;
}

/* The tutorial's sentence for what was just written. */
static void
tell(const char *path, const char *pem, size_t len)
{
	unsigned char der[PKI_DER_MAX];
	char sentence[512];
	size_t derlen = 0;

	if (pki_cert_decode((const unsigned char *)pem, len, der, sizeof(der), &derlen) == 0 &&
	    pki_cert_sentence(der, derlen, sentence, sizeof(sentence)) == 0)
		cmd_printf("%s: %s\n", path, sentence);
	else
		cmd_printf("%s: written\n", path);
}

/* ---- key ------------------------------------------------------------------------------- */

/* The password for a new key: from --password-file, else asked twice on the terminal; *pw
 * is NULL with --no-password. 0 or an exit code. */
static int
new_key_password(const struct opts *o, char *buf, size_t cap, const char **pw)
{
	int rc;

	*pw = NULL;
	if (o->password_file != NULL) {
		rc = pass_read_file(o->password_file, buf, cap);
		if (rc != 0)
			return password_file_error(o->password_file, rc);
		*pw = buf;
		return 0;
	}
	if (o->no_password)
		return 0;
	if (!pass_have_tty()) {
		msg_error("%s: no password to encrypt the key with and no terminal to ask for one "
			  "(use --password-file FILE, or --no-password for an unencrypted key)",
			  o->out);
		return PKI_EXIT_PASSWORD;
	}
	rc = pass_prompt("Password for the new key: ", "The same password again: ", buf, cap);
	if (rc != 0) {
		msg_error("%s: %s; no key written", o->out, pass_strerror(rc));
		return PKI_EXIT_PASSWORD;
	}
	*pw = buf;
	return 0;
}

int
cmd_key(int argc, char **argv)
{
	static char pem[PKI_PEM_MAX];
	char password[PASS_MAX + 1], summary[32];
	enum pki_key_type type = PKI_KEY_RSA2048;
	const char *pw = NULL;
	size_t pemlen = 0;
	struct opts o;
	int rc;

	if ((rc = parse(argc, argv, "otpPf", usage_key, &o)) != 0 || o.help)
		return rc;
	if ((rc = require(argv[0], o.out, "--out FILE")) != 0)
		return rc;
	if (o.argc > 0)
		return usage_error(argv[0], "unexpected argument '%s'", o.argv[0]);
	if (o.type != NULL && pki_key_type_parse(o.type, &type) < 0)
		return usage_error(
			argv[0], "--type '%s' is not rsa2048, rsa3072, rsa4096 or ec-p256", o.type);
	if (o.no_password && o.password_file != NULL)
		return usage_error(argv[0], "%s",
				   "--password-file and --no-password exclude each other");
	if ((rc = refuse_existing(&o)) != 0)
		return rc;
	if ((rc = new_key_password(&o, password, sizeof(password), &pw)) != 0)
		return rc;
	rc = pki_key_generate(type, pw, pem, sizeof(pem), &pemlen);
	explicit_bzero(password, sizeof(password));
	if (rc != 0) {
		msg_error("%s: cannot make the key: %s", o.out, pki_strerror(rc));
		return PKI_EXIT_FAIL;
	}
	rc = write_output(o.out, pem, pemlen, FS_MODE_PRIVATE, o.force);
	explicit_bzero(pem, sizeof(pem));
	if (rc != 0)
		return rc;
	snprintf(summary, sizeof(summary), "%s",
		 type == PKI_KEY_EC_P256   ? "EC P-256"
		 : type == PKI_KEY_RSA2048 ? "RSA 2048"
		 : type == PKI_KEY_RSA3072 ? "RSA 3072"
					   : "RSA 4096");
	cmd_printf("%s: new %s private key, %s\n", o.out, summary,
		   pw != NULL ? "encrypted (PKCS#8, PBKDF2-SHA256, AES-256-CBC), mode 0600"
			      : "NOT encrypted (--no-password), mode 0600");
	return PKI_EXIT_OK;
}

/* ---- ca -------------------------------------------------------------------------------- */

int
cmd_ca(int argc, char **argv)
{
	static char pem[PKI_PEM_MAX];
	unsigned char key[PKI_DER_MAX];
	char err[256];
	size_t keylen = 0, pemlen = 0;
	/* Set by parse_validity; the analyzer cannot see through usage_error. */
	time_t nb = 0, na = 0;
	struct opts o;
	int rc;

	if ((rc = parse(argc, argv, "opfknd", usage_ca, &o)) != 0 || o.help)
		return rc;
	if ((rc = require(argv[0], o.key, "--key KEY")) != 0 ||
	    (rc = require(argv[0], o.out, "--out CERT")) != 0 ||
	    (rc = require(argv[0], o.name.cn, "--cn NAME")) != 0)
		return rc;
	if (o.argc > 0)
		return usage_error(argv[0], "unexpected argument '%s'", o.argv[0]);
	if ((rc = parse_validity(argv[0], &o, time(NULL), &nb, &na)) != 0)
		return rc;
	if ((rc = refuse_existing(&o)) != 0)
		return rc;
	if ((rc = load_key(o.key, o.password_file, "--password-file", key, sizeof(key), &keylen)) !=
	    0)
		return rc;
	rc = pki_ca_create(key, keylen, &o.name, nb, na, pem, sizeof(pem), &pemlen, err,
			   sizeof(err));
	explicit_bzero(key, sizeof(key));
	if (rc == PKI_ENAME || rc == PKI_EDATE)
		return usage_error(argv[0], "%s", err);
	if (rc != 0) {
		msg_error("%s: cannot make the CA certificate: %s", o.out, err);
		return rc == PKI_EKEYTYPE ? PKI_EXIT_INPUT : PKI_EXIT_FAIL;
	}
	if ((rc = write_output(o.out, pem, pemlen, FS_MODE_PUBLIC, o.force)) != 0)
		return rc;
	tell(o.out, pem, pemlen);
	return PKI_EXIT_OK;
}

/* ---- csr ------------------------------------------------------------------------------- */

int
cmd_csr(int argc, char **argv)
{
	static char pem[PKI_PEM_MAX];
	unsigned char key[PKI_DER_MAX];
	char err[256];
	size_t keylen = 0, pemlen = 0;
	struct opts o;
	int rc;

	if ((rc = parse(argc, argv, "opfkns", usage_csr, &o)) != 0 || o.help)
		return rc;
	if ((rc = require(argv[0], o.key, "--key KEY")) != 0 ||
	    (rc = require(argv[0], o.out, "--out CSR")) != 0 ||
	    (rc = require(argv[0], o.name.cn, "--cn NAME")) != 0)
		return rc;
	if (o.argc > 0)
		return usage_error(argv[0], "unexpected argument '%s'", o.argv[0]);
	if ((rc = refuse_existing(&o)) != 0)
		return rc;
	if ((rc = load_key(o.key, o.password_file, "--password-file", key, sizeof(key), &keylen)) !=
	    0)
		return rc;
	rc = pki_csr_create(key, keylen, &o.name, o.san, o.nsan, pem, sizeof(pem), &pemlen, err,
			    sizeof(err));
	explicit_bzero(key, sizeof(key));
	if (rc == PKI_ENAME || rc == PKI_ESAN)
		return usage_error(argv[0], "%s", err);
	if (rc != 0) {
		msg_error("%s: cannot make the CSR: %s", o.out, err);
		return rc == PKI_EKEYTYPE ? PKI_EXIT_INPUT : PKI_EXIT_FAIL;
	}
	if ((rc = write_output(o.out, pem, pemlen, FS_MODE_PUBLIC, o.force)) != 0)
		return rc;
	if (o.nsan == 0 && pki_cn_is_host(o.name.cn))
		msg_warn("%s: no --san given, so the CSR names no host; sign will put its CN '%s' "
			 "in the certificate's subjectAltName",
			 o.out, o.name.cn);
	else if (o.nsan == 0)
		msg_warn(
			"%s: no --san given and the CN '%s' is not a host name, so sign will refuse "
			"this CSR (make it again with --san NAME)",
			o.out, o.name.cn);
	cmd_printf("%s: certificate signing request for '%s' with %zu subjectAltName entr%s\n",
		   o.out, o.name.cn, o.nsan, o.nsan == 1 ? "y" : "ies");
	return PKI_EXIT_OK;
}

/* ---- sign ------------------------------------------------------------------------------ */

/* The message and exit code for a pki_csr_sign failure: each names the file at fault. */
static int
sign_failed(const char *cmd, const struct opts *o, int rc, const char *err)
{
	switch (rc) {
	case PKI_EBADCSR:
	case PKI_ESAN:
	case PKI_EKEYTYPE: msg_error("%s: %s", o->csr, err); return PKI_EXIT_INPUT;
	case PKI_ECSRSIG:
		msg_error("%s: %s (it was altered or damaged; make the CSR again)", o->csr, err);
		return PKI_EXIT_MISMATCH;
	case PKI_EBADCERT: msg_error("%s: %s", o->ca_cert, err); return PKI_EXIT_INPUT;
	case PKI_EMISMATCH:
		msg_error("%s: %s %s (check --ca-key and --ca-cert)", o->ca_key, err, o->ca_cert);
		return PKI_EXIT_MISMATCH;
	case PKI_EDATE: return usage_error(cmd, "%s", err);
	default:
		msg_error("%s: cannot issue the certificate: %s", o->out, err);
		return PKI_EXIT_FAIL;
	}
}

/* What a person should hear about the certificate just issued. */
static void
sign_warnings(const struct opts *o, const struct pki_sign_opts *so,
	      const struct pki_sign_notes *notes)
{
	char a[32], b[32];

	if (notes->flags & PKI_SIGN_SAN_FROM_CN)
		msg_warn(
			"%s: the CSR has no subjectAltName; the certificate names only its CN '%s'",
			o->csr, notes->cn);
	if (notes->flags & PKI_SIGN_ISSUER_NOT_CA)
		msg_warn("%s: this CA certificate does not say CA:TRUE, so OpenSSL-based clients "
			 "(curl, Python, openssl verify) refuse what it issues as 'invalid CA "
			 "certificate' (make a CA with 'squirrel-pki ca')",
			 o->ca_cert);
	if (notes->flags & PKI_SIGN_CA_EXPIRED)
		msg_warn("%s: the CA certificate is not valid now, so nothing it issued verifies "
			 "until it is (its dates: 'squirrel-pki show %s'; an expired CA is renewed "
			 "from the same key with 'squirrel-pki ca --key %s', then sign again with "
			 "the new one)",
			 o->ca_cert, o->ca_cert, o->ca_key);
	/* Made right after its CA with the same --days, a certificate loses a few seconds: not
	 * worth a line. A day or more is. */
	if ((notes->flags & PKI_SIGN_CLIPPED) && so->not_after - notes->not_after >= 86400) {
		pki_time_format(notes->not_before, a, sizeof(a));
		pki_time_format(notes->not_after, b, sizeof(b));
		msg_note("%s: validity cut to end with the CA certificate's: %s to %s UTC", o->out,
			 a, b);
	}
}

int
cmd_sign(int argc, char **argv)
{
	static char pem[PKI_PEM_MAX];
	unsigned char key[PKI_DER_MAX];
	char err[256];
	size_t pemlen = 0;
	struct pki_sign_opts so = {.now = time(NULL)};
	struct pki_sign_notes notes;
	struct opts o;
	int rc;

	if ((rc = parse(argc, argv, "ofdc", usage_sign, &o)) != 0 || o.help)
		return rc;
	if ((rc = require(argv[0], o.csr, "--csr CSR")) != 0 ||
	    (rc = require(argv[0], o.ca_cert, "--ca-cert CACERT")) != 0 ||
	    (rc = require(argv[0], o.ca_key, "--ca-key CAKEY")) != 0 ||
	    (rc = require(argv[0], o.out, "--out CERT")) != 0)
		return rc;
	if (o.argc > 0)
		return usage_error(argv[0], "unexpected argument '%s'", o.argv[0]);
	so.client = o.client;
	if ((rc = parse_validity(argv[0], &o, so.now, &so.not_before, &so.not_after)) != 0 ||
	    (rc = refuse_existing(&o)) != 0 || (rc = read_input(o.csr, in_a, &so.csrlen)) != 0 ||
	    (rc = read_input(o.ca_cert, in_c, &so.cacertlen)) != 0 ||
	    (rc = load_key(o.ca_key, o.ca_password_file, "--ca-password-file", key, sizeof(key),
			   &so.cakeylen)) != 0)
		return rc;
	so.csr = in_a;
	so.cacert = in_c;
	so.cakey = key;
	rc = pki_csr_sign(&so, &notes, pem, sizeof(pem), &pemlen, err, sizeof(err));
	explicit_bzero(key, sizeof(key));
	if (rc != 0)
		return sign_failed(argv[0], &o, rc, err);
	if ((rc = write_output(o.out, pem, pemlen, FS_MODE_PUBLIC, o.force)) != 0)
		return rc;
	sign_warnings(&o, &so, &notes);
	tell(o.out, pem, pemlen);
	return PKI_EXIT_OK;
}

/* ---- show ------------------------------------------------------------------------------ */

int
cmd_show(int argc, char **argv)
{
	static char out[16384];
	char password[PASS_MAX + 1], err[256];
	const char *pw = NULL;
	struct opts o;
	int rc, first = PKI_EXIT_OK; /* the exit code of the first file that failed */

	if ((rc = parse(argc, argv, "p", usage_show, &o)) != 0 || o.help)
		return rc;
	if (o.argc == 0)
		return usage_error(argv[0], "%s", "which file? (squirrel-pki show FILE)");
	if (o.password_file != NULL) {
		rc = pass_read_file(o.password_file, password, sizeof(password));
		if (rc != 0)
			return password_file_error(o.password_file, rc);
		pw = password;
	}
	for (int i = 0; i < o.argc; i++) {
		const char *path = o.argv[i];
		size_t len = 0;

		if ((rc = read_input(path, in_a, &len)) != 0) {
			first = first != PKI_EXIT_OK ? first : rc;
			continue;
		}
		rc = pki_describe(in_a, len, pw, time(NULL), out, sizeof(out), err, sizeof(err));
		explicit_bzero(in_a, len);
		if (rc == 0) {
			cmd_printf("%s: %s", path, out);
			continue;
		}
		if (rc == PKI_EPASSWORD) {
			msg_error("%s: wrong password (check %s)", path, o.password_file);
			rc = PKI_EXIT_PASSWORD;
		} else if (rc == PKI_EUNKNOWN) {
			msg_error("%s: not a certificate, CSR or private key (PEM or DER)", path);
			rc = PKI_EXIT_INPUT;
		} else {
			msg_error("%s: %s", path, err);
			rc = rc == PKI_ESPACE || rc == PKI_EINTERNAL ? PKI_EXIT_FAIL
								     : PKI_EXIT_INPUT;
		}
		/* Every file gets its line, and the exit code is the first failure's, as a
		 * script reading the messages in order would expect. */
		first = first != PKI_EXIT_OK ? first : rc;
	}
	explicit_bzero(password, sizeof(password));
	explicit_bzero(out, sizeof(out));
	/* A description lost on the way must not pass for one that arrived: main() checks. */
	return first;
}

/* ---- verify ---------------------------------------------------------------------------- */

/* Why the chain did not verify, in the words the client uses for the same failure
 * (common/tls_words), and about the file at fault: the certificate, or the --ca file. */
static void
say_verify_failure(const char *ca, const char *path, int ca_problem, int code)
{
	const char *text = tlsw_verify_text(code);
	const char *hint = tlsw_verify_hint(code, TLSW_PKI_VERIFY);

	if (ca_problem && tlsw_is_not_a_ca(code))
		msg_error("%s: CA certificate verify failed: invalid CA certificate (it says it is "
			  "no CA: basicConstraints CA:FALSE, or a keyUsage without keyCertSign, as "
			  "a server's certificate does; give --ca the CA that issued %s)",
			  ca, path);
	else if (ca_problem)
		msg_error("%s: CA certificate verify failed: %s (see 'squirrel-pki show %s')", ca,
			  text != NULL ? text : "not acceptable", ca);
	else if (text != NULL)
		msg_error("%s: certificate verify failed: %s%s%s%s", path, text,
			  hint != NULL ? " (" : "", hint != NULL ? hint : "",
			  hint != NULL ? ")" : "");
	else
		msg_error("%s: certificate verify failed: wolfSSL error %d", path, code);
}

int
cmd_verify(int argc, char **argv)
{
	struct pki_verify_opts vo;
	struct pki_verify_result r;
	size_t calen = 0, certlen = 0;
	const char *path;
	char err[256], until[32];
	struct opts o;
	int rc;

	if ((rc = parse(argc, argv, "v", usage_verify, &o)) != 0 || o.help)
		return rc;
	if ((rc = require(argv[0], o.ca, "--ca CACERT")) != 0)
		return rc;
	/* --host "$HOST" with HOST unset must not turn the name check off. */
	if (o.host != NULL && o.host[0] == '\0')
		return usage_error(argv[0], "%s",
				   "--host is empty (is the variable it came from set?); give the "
				   "name the certificate must be for, or leave --host out");
	if (o.argc != 1)
		return usage_error(argv[0], "%s", "give exactly one certificate file to verify");
	path = o.argv[0];
	if ((rc = read_input(o.ca, in_a, &calen)) != 0 ||
	    (rc = read_input(path, in_b, &certlen)) != 0)
		return rc;
	memset(&vo, 0, sizeof(vo));
	vo.host = o.host;
	vo.strict = o.strict;
	vo.now = time(NULL);
	rc = pki_verify(in_a, calen, in_b, certlen, &vo, &r, err, sizeof(err));
	if (rc != 0 && rc != PKI_EVERIFY) {
		msg_error("%s: %s", r.ca_problem ? o.ca : path, err);
		return rc == PKI_EBADCERT ? PKI_EXIT_INPUT : PKI_EXIT_FAIL;
	}
	if (r.wolfssl_code != 0)
		say_verify_failure(o.ca, path, r.ca_problem, r.wolfssl_code);
	if (r.host_mismatch)
		msg_error("%s: %s: certificate is not valid for '%s' (its names: %s)", path,
			  tlsw_verify_text(r.host_mismatch), o.host, r.names);
	for (size_t i = 0; i < r.ndefects; i++)
		msg_error("%s: strict: %s", path, r.defect[i]);
	for (size_t i = 0; o.strict && i < r.nwarnings; i++)
		msg_warn("%s: %s", path, r.warning[i]);
	if (rc != 0)
		return PKI_EXIT_VERIFY;
	pki_time_format(r.not_after, until, sizeof(until));
	cmd_printf("%s: OK%s (valid until %s UTC; names: %s)\n", path, o.strict ? ", strict" : "",
		   until, r.names);
	return PKI_EXIT_OK;
}
