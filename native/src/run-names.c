/* The names of the run's enums, expanded from the lists in sandbox.h and supervise.h (designated
 * initializers: each name lands at its own enumerator whatever the order). */
#include "supervise.h"

#define SB_NAME_AT(id, name) [id] = name,
#define SB_STEP_NAME_AT(id, name) [id - SB_STEP_FIRST] = name,

const char *const sb_status_names[SB_STATUS_N] = {SB_STATUSES(SB_NAME_AT)};
const char *const sb_stop_names[SB_STOP_N] = {SB_STOPS(SB_NAME_AT)};
const char *const sb_phase_names[SB_PHASE_N] = {SB_PHASES(SB_NAME_AT)};
const char *const sb_step_names[SB_STEP_END - SB_STEP_FIRST] = {SB_STEPS(SB_STEP_NAME_AT)};
