/*
 * url_parse: the hosts the client connects to. Names and addresses that every reader takes
 * the same way pass; hosts that getaddrinfo() (inet_aton) and the certificate check would read
 * differently are refused with a reason that says what to write instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "url.h"

struct ucase {
	const char *in;
	const char *host; /* NULL: refused */
	const char *err;  /* with a refusal: the whole reason */
};

#define NOT_QUAD                                                                                   \
	"not an IPv4 address (four decimal numbers from 0 to 255, like 127.0.0.1), and a host "    \
	"name cannot end in a number"
#define WRITE "write the IPv4 address as four decimal numbers, "
#define SPACE "white space before or after the URL: remove it (quote the URL as a whole)"
#define SLASHES "the scheme needs two slashes: http://HOST:PORT/ or https://HOST:PORT/"
#define ZONE                                                                                       \
	"IPv6 zone identifiers (%25eth0) are not supported: use a global or loopback address, "    \
	"or a host name"
#define PERCENT "'%' in the host name: write the name itself, without percent-encoding"

static const struct ucase cases[] = {
	{.in = "http://localhost:5683/", .host = "localhost"},
	{.in = "http://localhost./", .host = "localhost."},
	{.in = "https://my-host.example/", .host = "my-host.example"},
	{.in = "http://127.0.0.1:5683/", .host = "127.0.0.1"},
	{.in = "http://0.0.0.0/", .host = "0.0.0.0"},
	{.in = "http://255.255.255.255/", .host = "255.255.255.255"},
	{.in = "http://[::1]:5683/", .host = "::1"},
	{.in = "http://[::ffff:127.0.0.1]/", .host = "::ffff:127.0.0.1"},
	/* Numbers before the last label do not make an address: RFC 3696 §2 is about the TLD. */
	{.in = "http://1.2.3.example/", .host = "1.2.3.example"},
	{.in = "http://0x7f.example/", .host = "0x7f.example"},
	{.in = "http://a.0x/", .host = "a.0x"},
	{.in = "http://a.1x/", .host = "a.1x"},

	/* inet_aton() reads these as an address the dotted quad names otherwise. */
	{.in = "http://0x7f.1/", .host = NULL, .err = WRITE "127.0.0.1"},
	{.in = "http://127.1/", .host = NULL, .err = WRITE "127.0.0.1"},
	{.in = "http://0177.0.0.1/", .host = NULL, .err = WRITE "127.0.0.1"},
	{.in = "http://0X7F000001/", .host = NULL, .err = WRITE "127.0.0.1"},
	{.in = "http://2130706433/", .host = NULL, .err = WRITE "127.0.0.1"},
	{.in = "http://1234/", .host = NULL, .err = WRITE "0.0.4.210"},
	{.in = "http://1.2.3.04/", .host = NULL, .err = WRITE "1.2.3.4"},
	{.in = "http://1.2.3.0x4/", .host = NULL, .err = WRITE "1.2.3.4"},
	{.in = "http://127.0.0.1./", .host = NULL, .err = WRITE "127.0.0.1"},
	/* Numeric at the end, and no address at all. */
	{.in = "http://1.2.3.4.5/", .host = NULL, .err = NOT_QUAD},
	{.in = "http://256.1.1.1/", .host = NULL, .err = NOT_QUAD},
	{.in = "http://4294967296/", .host = NULL, .err = NOT_QUAD},
	{.in = "http://example.123/", .host = NULL, .err = NOT_QUAD},
	{.in = "http://a.0x1g.1/", .host = NULL, .err = NOT_QUAD},
	{.in = "http://h%00/", .host = NULL, .err = PERCENT},
	{.in = "http://a%2eb/", .host = NULL, .err = PERCENT},
	{.in = "http://%31%32%37.0.0.1/", .host = NULL, .err = PERCENT},
	{.in = "http://a_b!c/", .host = "a_b!c"},
	{.in = "http://a\"b/", .host = NULL, .err = "invalid character in host name"},

	/* Pasted with white space around it: the error line cannot show it, so it says so. */
	{.in = " http://localhost/", .host = NULL, .err = SPACE},
	{.in = "http://localhost/\n", .host = NULL, .err = SPACE},
	{.in = "http://localhost:5683 ", .host = NULL, .err = SPACE},
	/* One slash, or none: the scheme was meant, not a host named http. */
	{.in = "http:/localhost:5683/", .host = NULL, .err = SLASHES},
	{.in = "HTTPS:localhost/", .host = NULL, .err = SLASHES},
	{.in = "http:5683", .host = NULL, .err = SLASHES},
	{.in = "http//127.0.0.1:5683",
	 .err = "it looks like a mistyped scheme; did you mean http://127.0.0.1:5683?"},
	{.in = "HTTPS//localhost/x",
	 .err = "it looks like a mistyped scheme; did you mean HTTPS://localhost/x?"},
	{.in = "httpbin.example:80", .host = "httpbin.example"},
	/* RFC 6874 zones name an interface of this machine: not for a certificate's address. */
	{.in = "http://[fe80::1%25eth0]:5683/", .host = NULL, .err = ZONE},
	{.in = "http://[fe80::1%eth0]/", .host = NULL, .err = ZONE},
};

static void
test_hosts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ucase *c = &cases[i];
		struct url u;
		char err[200] = "";
		int r = url_parse(c->in, &u, err, sizeof(err));

		if (c->host != NULL && r != 0)
			fail_msg("%s: refused (%s)", c->in, err);
		if (c->host != NULL && strcmp(u.host, c->host) != 0)
			fail_msg("%s: host '%s'", c->in, u.host);
		if (c->host == NULL && r == 0)
			fail_msg("%s: accepted (host '%s')", c->in, u.host);
		if (c->host == NULL && strcmp(err, c->err) != 0)
			fail_msg("%s: reason '%s'", c->in, err);
	}
}

static void
test_reason_cut_to_the_buffer(void **state)
{
	struct url u;
	char err[8];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(url_parse("http://0x7f.1/", &u, err, sizeof(err)), -1);
	assert_string_equal(err, "write t");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_reason_cut_to_the_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
