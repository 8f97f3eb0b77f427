/* What the C tests may ask of the local collector, which capi_harness.cpp runs in-process (the
 * collector is C++; the tests themselves are C). One collector per test process. */
#ifndef HTEVENTS_TESTS_COLLECTOR_HARNESS_H
#define HTEVENTS_TESTS_COLLECTOR_HARNESS_H

#ifdef __cplusplus
extern "C" {
#endif

/* "http://127.0.0.1:PORT" of the running collector. */
const char* harness_endpoint(void);
/* Distinct messageIds received so far. */
unsigned long long harness_unique(void);
/* Valid messages received of one type ("track", "identify", ...). */
unsigned long long harness_type_count(const char* type);
/* Batches answered 4xx so far. */
unsigned long long harness_answered_4xx(void);
/* 1 when some received (decoded) batch body contains `text`. */
int harness_received(const char* text);
/* From now on answer every batch POST with `status` (0: back to normal). */
void harness_set_fixed_status(int status);

/* The test case named `name` (see capi_test.c); 0 when it passes. */
int capi_test_case(const char* name);

#ifdef __cplusplus
}
#endif

#endif
