/*
 * The parse tree of a Go text/template (text/template/parse/node.go), which Go also makes public:
 * what the parser builds and the evaluator walks. Positions are offsets into the text the tree
 * was parsed from.
 */

/** One named template: a text's own, or a `{{define}}` / `{{block}}` in it. */
export interface Tree {
  name: string;
  /** The name of the text it was parsed from (Go's ParseName), which errors show with the line. */
  parseName: string;
  source: string;
  root: Node[];
}

export interface Pipe {
  pos: number;
  text: string;
  decl: { name: string; pos: number }[];
  isAssign: boolean;
  cmds: Command[];
}

export interface Command {
  pos: number;
  text: string;
  args: Arg[];
}

/** An operand; `text` is its source, for error messages (Go's node String()). */
export type Arg = { pos: number; text: string } & (
  | { type: 'field'; idents: string[] }
  | { type: 'variable'; name: string; idents: string[] }
  | { type: 'chain'; node: Arg; idents: string[] }
  | { type: 'identifier'; name: string }
  | { type: 'pipe'; pipe: Pipe }
  | { type: 'dot' }
  | { type: 'nil' }
  | { type: 'bool'; value: boolean }
  | { type: 'number'; value: number }
  | { type: 'string'; value: string }
);

export interface Control {
  pos: number;
  pipe: Pipe;
  list: Node[];
  elseList?: Node[];
}

export type Node =
  | { type: 'text'; text: string }
  | { type: 'action'; pos: number; pipe: Pipe }
  | ({ type: 'if' } & Control)
  | ({ type: 'with' } & Control)
  | ({ type: 'range' } & Control)
  /** `{{template "name" pipeline}}`, and what a `{{block}}` leaves in place. */
  | { type: 'template'; pos: number; text: string; name: string; pipe?: Pipe };
