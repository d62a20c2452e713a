// curl_easy_setopt and curl_easy_getinfo are C variadic functions, which Swift cannot call:
// these typed wrappers are the whole of mlv's view of them.
#include <curl/curl.h>

typedef size_t (*mlv_curl_io_cb)(char *, size_t, size_t, void *);
typedef int (*mlv_curl_seek_cb)(void *, curl_off_t, int);
typedef int (*mlv_curl_debug_cb)(CURL *, curl_infotype, char *, size_t, void *);

static inline CURLcode mlv_curl_set_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mlv_curl_set_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mlv_curl_set_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mlv_curl_set_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mlv_curl_set_list(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mlv_curl_set_cb(CURL *h, CURLoption o, mlv_curl_io_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mlv_curl_set_seek(CURL *h, mlv_curl_seek_cb v) { return curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, v); }
static inline CURLcode mlv_curl_set_debug(CURL *h, mlv_curl_debug_cb v) { return curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, v); }
static inline CURLcode mlv_curl_get_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
