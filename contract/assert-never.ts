/** Makes a switch over a closed union exhaustive: adding a member breaks the build here. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
