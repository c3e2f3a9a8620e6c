/*
 * Serializing responses. The server formats its few responses once at start-up and patches
 * only the Date field each second, so nothing here is on the per-request path.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "http.h"

const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

void
http_format_date(char out[30], int64_t t)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	/* Not strftime: its names follow the locale, and HTTP dates are always English. */
	gmtime_r(&tt, &tm);
	snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], (tm.tm_year + 1900) % 10000, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

int
http_format_head(char *buf, size_t cap, int status, const char *date, const char *content_type,
		 uint64_t content_length, const char *conn, const char *extra)
{
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %d %s\r\n"
			 "Date: %s\r\n"
			 "Server: squirrel\r\n"
			 "%s%s%s"
			 "Content-Length: %" PRIu64 "\r\n"
			 "%s%s%s"
			 "%s"
			 "\r\n",
			 status, http_reason(status), date, content_type ? "Content-Type: " : "",
			 content_type ? content_type : "", content_type ? "\r\n" : "",
			 content_length, conn ? "Connection: " : "", conn ? conn : "",
			 conn ? "\r\n" : "", extra ? extra : "");

	return n < 0 || (size_t)n >= cap ? -1 : n;
}
