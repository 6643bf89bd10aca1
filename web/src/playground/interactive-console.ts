import { byId } from "../shared/dom.ts";
import type { LiveOutput } from "./live-output.ts";
import type { InteractiveHandle } from "./run-transport.ts";

// The console under the output while an interactive run goes: a line input and buttons for end of
// input and interrupt, with a terminal's keys — Enter sends the line, Ctrl+D ends the input,
// Ctrl+C interrupts (unless text is selected: then it copies, as everywhere else). What is sent is
// echoed into the transcript, since the program has no terminal to echo it.

export interface InteractiveConsole {
  /** Shows the console for this run and focuses its input. */
  attach(handle: InteractiveHandle, transcript: LiveOutput): void;
  /** Hides it; focus, if it was in the console, goes to `focusAfter`. */
  detach(): void;
}

export function createInteractiveConsole(focusAfter: HTMLElement): InteractiveConsole {
  const row = byId("console");
  const input = byId<HTMLInputElement>("console-input");
  const send = byId<HTMLButtonElement>("console-send");
  const interruptButton = byId<HTMLButtonElement>("console-interrupt");
  let live: { handle: InteractiveHandle; transcript: LiveOutput } | null = null;

  const enableInput = (on: boolean) => {
    input.disabled = !on;
    send.disabled = !on;
  };

  const sendLine = () => {
    if (!live || input.disabled) return;
    const line = `${input.value}\n`;
    input.value = "";
    live.transcript.echo(line);
    live.handle.write(line);
  };

  const endInput = () => {
    if (!live || input.disabled) return;
    live.transcript.note("^D\n");
    live.handle.endInput();
    // Nothing more can be sent once stdin is closed; Interrupt and Stop still work.
    enableInput(false);
    interruptButton.focus();
  };

  const interrupt = () => {
    if (!live) return;
    live.transcript.note("^C\n");
    live.handle.interrupt();
  };

  send.addEventListener("click", sendLine);
  byId("console-eof").addEventListener("click", endInput);
  interruptButton.addEventListener("click", interrupt);
  row.addEventListener("keydown", (event) => {
    const control = event.ctrlKey && !event.altKey && !event.metaKey;
    const key = event.key.toLowerCase();
    const selected =
      event.target === input
        ? input.selectionStart !== input.selectionEnd
        : Boolean(window.getSelection()?.toString());
    if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && event.target === input) {
      event.preventDefault();
      sendLine();
    } else if (control && key === "d") {
      event.preventDefault();
      endInput();
    } else if (control && key === "c" && !selected) {
      event.preventDefault();
      interrupt();
    }
  });

  return {
    attach(handle, transcript) {
      live = { handle, transcript };
      row.hidden = false;
      input.value = "";
      enableInput(true);
      input.focus();
    },
    detach() {
      const hadFocus = row.contains(document.activeElement);
      live = null;
      row.hidden = true;
      enableInput(false);
      if (hadFocus) focusAfter.focus();
    },
  };
}
