#include "net/curl_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

static struct curl_lib lib;
static const struct curl_lib *loaded;
static const char *load_error;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* dlsym returns void *; POSIX guarantees it converts to a function
 * pointer. */
#define BIND(field, symbol)                                   \
	do {                                                  \
		*(void **)&lib.field = dlsym(handle, symbol); \
		if (lib.field == NULL)                        \
			goto missing;                         \
	} while (0)

static void load(void)
{
	void *handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		load_error = dlerror();
		return;
	}
	BIND(global_init, "curl_global_init");
	BIND(global_cleanup, "curl_global_cleanup");
	BIND(easy_init, "curl_easy_init");
	BIND(easy_setopt, "curl_easy_setopt");
	BIND(easy_perform, "curl_easy_perform");
	BIND(easy_getinfo, "curl_easy_getinfo");
	BIND(easy_strerror, "curl_easy_strerror");
	BIND(easy_escape, "curl_easy_escape");
	BIND(easy_cleanup, "curl_easy_cleanup");
	BIND(easy_reset, "curl_easy_reset");
	BIND(easy_pause, "curl_easy_pause");
	BIND(free, "curl_free");
	BIND(slist_append, "curl_slist_append");
	BIND(slist_free_all, "curl_slist_free_all");
	BIND(multi_init, "curl_multi_init");
	BIND(multi_setopt, "curl_multi_setopt");
	BIND(multi_add_handle, "curl_multi_add_handle");
	BIND(multi_remove_handle, "curl_multi_remove_handle");
	BIND(multi_socket_action, "curl_multi_socket_action");
	BIND(multi_info_read, "curl_multi_info_read");
	BIND(multi_assign, "curl_multi_assign");
	BIND(multi_cleanup, "curl_multi_cleanup");
	loaded = &lib;
	return;
missing:
	load_error = dlerror();
	dlclose(handle);
}

const struct curl_lib *curl_lib(const char **why)
{
	pthread_once(&once, load);
	if (loaded == NULL && why != NULL)
		*why = load_error ? load_error : "libcurl.so.4 cannot be loaded";
	return loaded;
}
