import type { Stage } from "../../../contract/job-events.ts";
import { h } from "../shared/dom.ts";
import type { OutputPiece } from "./run-transport.ts";

// What the result view shows while a run is going: each step's output as the program writes it
// (stderr in its own colour), and in interactive mode the lines the person typed, echoed where
// they were sent — the program has no terminal to echo them. Text goes in as text nodes only, so
// nothing a program prints becomes markup. The view follows the newest output unless the person
// has scrolled up to read. Once the run ends, the page replaces it with the result view.

export interface LiveOutput {
  readonly element: HTMLElement;
  step(stage: Stage, test: number | null): void;
  output(piece: OutputPiece): void;
  /** Echoes what the person sent to stdin. */
  echo(text: string): void;
  /** Marks the end of input or an interrupt in the transcript. */
  note(text: string): void;
}

type Kind = "stdout" | "stderr" | "stdin" | "note";

export function createLiveOutput(): LiveOutput {
  const element = h("div", { class: "live", "data-live": "true" });
  let pre: HTMLPreElement | null = null;
  let last: { kind: Kind; text: Text; pre: HTMLPreElement } | null = null;

  const current = (): HTMLPreElement => {
    if (pre) return pre;
    pre = h("pre", { class: "output live-output", role: "log", "aria-label": "Program output" });
    element.append(pre);
    return pre;
  };

  const add = (kind: Kind, data: string) => {
    const target = current();
    const atBottom = target.scrollHeight - target.scrollTop - target.clientHeight < 4;
    if (last?.kind === kind && last.pre === target) last.text.appendData(data);
    else {
      const text = document.createTextNode(data);
      target.append(kind === "stdout" ? text : h("span", { class: `live-${kind}` }, text));
      last = { kind, text, pre: target };
    }
    if (atBottom) target.scrollTop = target.scrollHeight;
  };

  return {
    element,
    step(stage, test) {
      // A plain run needs no heading; compile and tests say which step the output belongs to.
      if (stage === "run" && test === null) return;
      const title = stage === "compile" ? "Compiling" : `Test ${(test ?? 0) + 1}`;
      element.append(h("h3", { class: "live-step" }, title));
      pre = null;
      last = null;
    },
    output: (piece) => add(piece.stream, piece.data),
    echo: (text) => add("stdin", text),
    note: (text) => add("note", text),
  };
}
