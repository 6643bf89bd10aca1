import type { CompareMode, JobTest } from "../../../contract/job-request.ts";
import { h, replaceChildren } from "../shared/dom.ts";

// The tests panel: input / expected-output pairs and the compare mode. With at least one test the
// job is compiled once and run once per test (stdin and args of the Input tab are not used), and
// each test gets accepted or wrong_answer.

export interface TestsPanel {
  get(): JobTest[];
  set(tests: JobTest[]): void;
  compare(): CompareMode;
  setCompare(mode: CompareMode): void;
  onChange(listener: () => void): void;
}

export function createTestsPanel(
  list: HTMLElement,
  addButton: HTMLButtonElement,
  compareSelect: HTMLSelectElement,
): TestsPanel {
  const listeners: (() => void)[] = [];
  let tests: JobTest[] = [];
  const changed = () => {
    for (const listener of listeners) listener();
  };

  const row = (test: JobTest, index: number) => {
    const stdinId = `test-${index}-stdin`;
    const expectedId = `test-${index}-expected`;
    const field = (id: string, label: string, value: string, key: "stdin" | "expectedOutput") => {
      const input = h("textarea", {
        id,
        rows: 3,
        spellcheck: "false",
        oninput: () => {
          const current = tests[index];
          if (current) current[key] = input.value;
          changed();
        },
      });
      // Set as a property: a test's text never goes through markup.
      input.value = value;
      return h("div", { class: "test-field" }, h("label", { for: id }, label), input);
    };
    const item = h(
      "li",
      { class: "test-row" },
      h(
        "div",
        { class: "test-head" },
        h("strong", {}, `Test ${index + 1}`),
        h(
          "button",
          {
            type: "button",
            class: "link",
            "aria-label": `Remove test ${index + 1}`,
            onclick: () => {
              tests.splice(index, 1);
              render();
              changed();
            },
          },
          "Remove",
        ),
      ),
      h(
        "div",
        { class: "test-fields" },
        field(stdinId, "Input", test.stdin, "stdin"),
        field(expectedId, "Expected output", test.expectedOutput, "expectedOutput"),
      ),
    );
    return item;
  };

  const render = () => {
    replaceChildren(list, ...tests.map(row));
    list.classList.toggle("empty", tests.length === 0);
  };

  addButton.addEventListener("click", () => {
    tests.push({ stdin: "", expectedOutput: "" });
    render();
    changed();
    (list.querySelector(`#test-${tests.length - 1}-stdin`) as HTMLTextAreaElement | null)?.focus();
  });
  compareSelect.addEventListener("change", changed);
  render();

  return {
    get: () => tests.map((test) => ({ ...test })),
    set(next) {
      tests = next.map((test) => ({ ...test }));
      render();
    },
    compare: () => compareSelect.value as CompareMode,
    setCompare(mode) {
      compareSelect.value = mode;
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
