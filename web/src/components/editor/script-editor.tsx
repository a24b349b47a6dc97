import { useEffect, useRef, useState } from 'preact/hooks';
import type { ScriptEditor as Editor, Syntax } from './codemirror';

/** The script body editor: CodeMirror, loaded on first use; a plain textarea until it is there. */
export function ScriptEditor(props: {
  value: string;
  syntax: Syntax;
  label: string;
  onChange: (v: string) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<Editor | undefined>(undefined);
  const [ready, setReady] = useState(false);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;
  useEffect(() => {
    let dead = false;
    void import('./codemirror').then(({ createScriptEditor }) => {
      if (dead || !host.current) return;
      editor.current = createScriptEditor(host.current, {
        doc: props.value,
        syntax: props.syntax,
        label: props.label,
        onChange: (t) => onChange.current(t),
      });
      setReady(true);
    });
    return () => {
      dead = true;
      editor.current?.destroy();
    };
  }, []);
  useEffect(() => editor.current?.setSyntax(props.syntax), [props.syntax]);
  return (
    <div class="script-editor" data-ready={ready ? 'true' : 'false'}>
      <div ref={host} />
      {!ready && <textarea aria-label={props.label} value={props.value} readOnly rows={6} />}
    </div>
  );
}
