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

/*
 * The length of the UTF-8 character at s (n >= 1 bytes) that a terminal shows as text, or 0:
 * well formed as RFC 3629 §4 says (no overlong form, no surrogate, nothing past U+10FFFF),
 * and not a C1 control, U+0080-U+009F, which terminals act on as they do on ESC sequences
 * (U+009B is CSI, the start of a colour or cursor sequence).
 */
static size_t
utf8_text(const unsigned char *s, size_t n)
{
	unsigned lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xc2 || s[0] == 0xe0)
		lo = 0xa0; /* C1 controls; overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return len;
}

size_t
termsafe_copy(char *out, size_t cap, const void *p, size_t n, unsigned rule, size_t *outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t i = 0, o = 0;

	while (i < n) {
		size_t text = termsafe_passes(s[i], rule) ? 1 : 0;
		size_t width;

		if (text && s[i] >= 0x80)
			text = utf8_text(s + i, n - i);
		width = text > 0 ? text : rule & TERMSAFE_DOT ? 1 : 4;
		if (o + width >= cap)
			break;
		if (text > 0) {
			for (size_t k = 0; k < text; k++)
				out[o++] = (char)s[i + k];
			i += text;
			continue;
		}
		if (rule & TERMSAFE_DOT) {
			out[o++] = '.';
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[s[i] >> 4];
			out[o++] = hex[s[i] & 15];
		}
		i++;
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return i;
}
