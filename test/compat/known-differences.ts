// Every CPython test that passes bare and not in the sandbox, with the reason the security model
// (or a job's limits) requires it. A difference not matched here fails test/compat/cpython.test.ts.
// Keep each entry as narrow as the cause; docs/ARCHITECTURE.md ("Compatibility") renders the same list.

export interface KnownDifference {
  /** Matches test ids ("test.test_os.TestSendfile.test_keywords"). */
  match: RegExp;
  reason: string;
}

export const KNOWN_DIFFERENCES: KnownDifference[] = [
  {
    match: /^test\.test_os\.ExtendedAttributeTests\./,
    reason: "xattr writes answer ENOTSUP (the errno policy): a job's files live one job on tmpfs",
  },
  {
    match: /^test\.test_os\.FDInheritanceTests\.test_openpty$|^test\.test_pty\./,
    reason: "no pseudo-terminals: a job's /dev has no ptmx/devpts (stdio are pipes)",
  },
  {
    match:
      /^test\.test_os\.TestSendfile\.|^test\.test_socket\.|^test\.test_asyncio\..*(Sock|Server|Connection|Ssl|SSL)/,
    reason: "no network: the loopback interface is down in a job (no network is a promise)",
  },
  {
    match: /^test\.test_resource\.ResourceTest\.(test_fsize_ismax|test_setrusage_refcount)$/,
    reason: "the job's limits are hard rlimits (RLIMIT_FSIZE, RLIMIT_CPU): a job cannot raise them",
  },
  {
    match: /^test\.test_io\.\w+\.test_large_file_ops$|^test\.test_mmap\.LargeMmapTests\./,
    reason: "files over 2 GiB exceed the job's file-size and tmpfs limits",
  },
  {
    match: /^test\.test_fcntl\.TestFcntl\.test_fcntl_64_bit$/,
    reason:
      "fcntl F_NOTIFY (dnotify) and leases are refused: watching a directory or file that concurrent jobs share would show what they open",
  },
];

export function knownReason(test: string): string | undefined {
  return KNOWN_DIFFERENCES.find((d) => d.match.test(test))?.reason;
}
