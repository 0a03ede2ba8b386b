import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * The job's environment has no UTF-8 locale, so tools fall back to ASCII and fail on the first
 * non-ASCII byte (locale_not_utf8, proposed by the corpus's fourteenth and twenty-first passes).
 * Images often set no LANG at all (the C/POSIX locale), and a shell runner's service does not read the
 * user's profile where a terminal gets its UTF-8 locale — hence "works in my terminal, fails in CI".
 */

const ENCODING = new RegExp([
  // Ruby (CocoaPods, fastlane, xcpretty, Jekyll): strings read as US-ASCII.
  String.raw`invalid byte sequence in US-ASCII`,
  String.raw`Unicode Normalization not appropriate for ASCII-8BIT`,
  // Ruby Sass (Jekyll's SCSS, Compass) reading a stylesheet as US-ASCII.
  String.raw`Invalid US-ASCII character "\\x[0-9A-Fa-f]{2}"`,
  // Python: click's own check, and the ascii codec of a C locale (or of a pipe, before 3.7).
  String.raw`Click will abort further execution because Python (?:3 )?was configured to use ASCII as encoding`,
  // pip indents a setup.py's output (four spaces, six inside pip 22's box).
  String.raw`^\s*(?:E\s+)?Unicode(?:En|De)codeError: 'ascii' codec can't (?:en|de)code`,
  // javac reading UTF-8 sources with the platform's ASCII default.
  String.raw`unmappable character (?:\(0x[0-9A-F]+\) )?for encoding (?:US-)?ASCII`,
].join('|'))
// The tools that check the locale themselves say so first (a warning; the failure follows).
const WARNING = /CocoaPods requires your terminal to be using UTF-8 encoding|fastlane requires your locale to be set to UTF-8/

function locale(s: Scan): Diagnosis[] {
  const hit = s.all(ENCODING).filter((h) => !s.inDiff(h.line)).pop()
  if (!hit || s.wentPast(hit.line)) return []
  const warned = s.last(WARNING)
  const java = /unmappable character/.test(hit.line.text)
  const shell = s.family === 'shell' || /\/Users\/|\.rvm\//.test(hit.line.text)
  const fixes: Fix[] = [
    { text: 'Give the job a UTF-8 locale.', snippet: 'variables:\n  LANG: C.UTF-8\n  LC_ALL: C.UTF-8' },
  ]
  if (shell) fixes.unshift({ text: 'On a shell runner (a Mac runner, typically) set it for every job in the runner\'s config: the service does not read the login profile your terminal does.', snippet: '[[runners]]\n  environment = ["LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8"]' })
  if (java) fixes.push({ text: 'Or tell the compiler the sources\' encoding.', snippet: 'variables:\n  JAVA_TOOL_OPTIONS: "-Dfile.encoding=UTF-8"\n# Maven: <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>' })
  if (/codec can't/.test(hit.line.text)) fixes.push({ text: 'Python 2 and old 3.x also pick ASCII for a pipe: set its I/O encoding.', snippet: 'variables:\n  PYTHONIOENCODING: utf-8' })
  return [diagnosis('locale_not_utf8', 'The job runs without a UTF-8 locale',
    `"${hit.line.text.trim().slice(0, 160)}": the tool decoded text as ASCII because the job's environment has no UTF-8 locale (LANG/LC_ALL unset: the C locale). ${shell ? 'A runner service does not read the login profile that gives your terminal its locale, so the same command works there.' : 'Many images set no LANG at all.'}`,
    evidence(warned, s.commandAt(hit.line.n), hit), fixes, warned || /US-ASCII|ASCII-8BIT|Click will abort/.test(hit.line.text) ? 0.75 : 0.55)]
}

export const localeRule: Rule = {
  id: 'locale',
  categories: ['locale_not_utf8'],
  match: (ev) => locale(Scan.of(ev)),
}
