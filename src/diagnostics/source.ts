/** A place in a user's file. Lines and columns are 1-based, as editors show them. */
export interface SourceSpan {
  readonly file: string
  readonly line: number
  readonly col: number
  readonly endLine?: number
  readonly endCol?: number
}

/**
 * The texts of every file glrun read for one command, so a diagnostic can show the offending line
 * with a caret under it long after parsing. Keyed by the file name used in spans.
 */
export class SourceTexts {
  private readonly texts = new Map<string, string>()

  add(file: string, text: string): void {
    this.texts.set(file, text)
  }

  line(file: string, line: number): string | undefined {
    const text = this.texts.get(file)
    if (text === undefined) return undefined
    return text.split(/\r?\n/)[line - 1]
  }
}

export function formatSpan(span: SourceSpan): string {
  return `${span.file}:${span.line}:${span.col}`
}
