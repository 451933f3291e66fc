#include "scenario/tls_alert.h"

#include <ctype.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "GNUTLS_A_"

const char *tls_alert_name(int code, char *buf, size_t len)
{
	const char *s = code >= 0 && code <= 255 ? gnutls_alert_get_strname(code) : NULL;
	size_t i = 0;
	if (s != NULL && strncmp(s, PREFIX, strlen(PREFIX)) == 0)
		for (s += strlen(PREFIX); s[i] != '\0' && i + 1 < len; i++)
			buf[i] = (char)tolower((unsigned char)s[i]);
	if (len > 0)
		buf[i] = '\0';
	return buf;
}

int tls_alert_code(const char *name)
{
	char buf[64];
	for (int code = 0; code <= 255; code++)
		if (strcmp(tls_alert_name(code, buf, sizeof buf), name) == 0 && buf[0] != '\0')
			return code;
	return -1;
}
