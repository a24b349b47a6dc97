import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { defaultHighlightStyle, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { powerShell } from '@codemirror/legacy-modes/mode/powershell';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers } from '@codemirror/view';

/**
 * CodeMirror 6 with the Bash and PowerShell modes, loaded only by the process editor (its own
 * chunk, about 100 KB gzipped, so the first page stays small). Tab indents; Escape then Tab
 * leaves the editor, CodeMirror's rule for keyboard users.
 */
export type Syntax = 'Bash' | 'PowerShell';

const languageOf = (s: Syntax) => StreamLanguage.define(s === 'PowerShell' ? powerShell : shell);

export interface ScriptEditor {
  setSyntax(s: Syntax): void;
  destroy(): void;
}

export function createScriptEditor(
  parent: HTMLElement,
  opts: { doc: string; syntax: Syntax; label: string; onChange: (text: string) => void },
): ScriptEditor {
  const language = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: opts.doc,
      extensions: [
        lineNumbers(),
        history(),
        keymap.of([indentWithTab, ...defaultKeymap, ...historyKeymap]),
        syntaxHighlighting(defaultHighlightStyle),
        language.of(languageOf(opts.syntax)),
        EditorView.contentAttributes.of({ 'aria-label': opts.label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) opts.onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    setSyntax: (s) => view.dispatch({ effects: language.reconfigure(languageOf(s)) }),
    destroy: () => view.destroy(),
  };
}
