/**
 * Just enough shell reading for lint checks: the simple commands of a script line, each as its
 * words with quotes removed, so `echo "docker build"` or `# docker build` is not mistaken for
 * running docker. Not a shell parser: here-documents, `$(…)` inside double quotes and aliases
 * are not followed — a missed command only means a missed warning, never a false one.
 */

/** Words that may stand before the program of a simple command without being it. */
const PREFIXES = new Set(['sudo', 'time', 'exec', 'command', 'nohup', 'env', 'if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', '}'])

/** The simple commands of a script line (or block), as unquoted words, in order. */
export function simpleCommands(script: string): string[][] {
  const commands: string[][] = []
  let words: string[] = []
  let word = ''
  let inWord = false
  const endWord = (): void => {
    if (inWord) words.push(word)
    word = ''
    inWord = false
  }
  const endCommand = (): void => {
    endWord()
    if (words.length > 0) commands.push(words)
    words = []
  }
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!
    if (c === '\\') {
      // A backslash-newline joins lines; any other escaped character is literal.
      if (script[i + 1] === '\n') i++
      else {
        word += script[i + 1] ?? ''
        inWord = true
        i++
      }
    } else if (c === "'" || c === '"') {
      const end = script.indexOf(c, i + 1)
      const stop = end < 0 ? script.length : end
      word += script.slice(i + 1, stop)
      inWord = true
      i = stop
    } else if (c === '#' && !inWord) {
      const nl = script.indexOf('\n', i)
      i = nl < 0 ? script.length : nl - 1
    } else if (c === ' ' || c === '\t') {
      endWord()
    } else if (c === '\n' || c === ';' || c === '&' || c === '|' || c === '(' || c === ')' || c === '`') {
      endCommand()
    } else if (c === '$' && script[i + 1] === '(') {
      endCommand()
      i++
    } else {
      word += c
      inWord = true
    }
  }
  endCommand()
  return commands
}

/**
 * The program a simple command runs and its arguments, after leading variable assignments and
 * prefixes such as `sudo` or `then`; undefined for a command that only assigns variables.
 */
export function programOf(words: readonly string[]): { program: string; args: string[] } | undefined {
  let i = 0
  while (i < words.length && (PREFIXES.has(words[i]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!))) i++
  return i < words.length ? { program: words[i]!, args: words.slice(i + 1) } : undefined
}

/** The programs a script line runs, with their arguments. */
export function programs(script: string): { program: string; args: string[] }[] {
  return simpleCommands(script).map(programOf).filter((p): p is { program: string; args: string[] } => p !== undefined)
}
