// Judge0's command_line_arguments: Judge0 removes ``$&;<>|` `` and pastes the rest into its run
// script, where a shell splits it. We remove the same characters and split the same way — quotes
// and backslashes honoured, no expansion of any kind — but no shell ever runs: the words become
// the job's argv, appended to the run command like any job's args.

/** Judge0 drops these from command_line_arguments before passing them to its shell. */
export const STRIPPED_ARGUMENT_CHARS = /[$&;<>|`]/g;

/**
 * Words of a command line as a POSIX shell splits them, quotes and backslashes honoured — but no
 * expansion of any kind, and no shell ever runs: the words become the job's argv.
 */
export function splitArguments(line: string): string[] | null {
  const words: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote) {
      if (char === quote) quote = null;
      else if (char === "\\" && quote === '"' && /["\\]/.test(line[i + 1] ?? "")) word += line[++i] as string;
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (char === "\\" && i + 1 < line.length) {
      word = (word ?? "") + (line[++i] as string);
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? "") + char;
    }
  }
  if (quote) return null;
  if (word !== null) words.push(word);
  return words;
}
