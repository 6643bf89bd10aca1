// Which CPython test modules the compatibility suite runs. `npm test` runs the fast subset (both
// sides together in well under a minute here); `npm run compat` runs them all.

/** Fast modules that cover files, locks, time, processes, xattrs, ptys and limits. */
export const SUBSET = [
  "test_fcntl",
  "test_time",
  "test_shutil",
  "test_tempfile",
  "test_os",
  "test_posix",
  "test_resource",
  "test_pty",
  "test_select",
];

/** The broad list (issue 10); minutes on this machine. */
export const ALL = [
  ...SUBSET,
  "test_subprocess",
  "test_threading",
  "test_signal",
  "test_selectors",
  "test_mmap",
  "test_io",
  "test_pathlib",
  "test_locale",
  "test_unicode",
  "test_json",
  "test_re",
  "test_math",
  "test_random",
  "test_datetime",
  "test_zoneinfo",
  "test_socket",
  "test_asyncio",
  "test_multiprocessing_fork",
  "test_concurrent_futures",
];
