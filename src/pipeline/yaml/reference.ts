import type { SourceSpan } from '../../diagnostics/source.js'

/**
 * A `!reference [job, key, ...]` tag, kept as data until the compiler resolves it after includes
 * and `extends`. `path` holds the raw items; anything but strings is an error reported then.
 */
export class YamlReference {
  constructor(
    readonly path: readonly unknown[],
    readonly span: SourceSpan,
  ) {}

  toJSON(): string {
    return `!reference [${this.path.map((p) => JSON.stringify(p)).join(', ')}]`
  }
}
