import { describe, expect, it } from 'vitest'
import { expandBraces, fnmatch } from './fnmatch.js'

// Expectations from Ruby's documented File.fnmatch behaviour with the flags GitLab passes
// (FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB).
describe('fnmatch (Ruby File.fnmatch with PATHNAME | DOTMATCH | EXTGLOB)', () => {
  it.each([
    ['cat', 'cat', true],
    ['cat', 'category', false],
    ['c?t', 'cat', true],
    ['c??t', 'cat', false],
    ['ca[a-z]', 'cat', true],
    ['ca[^t]', 'cat', false],
    ['ca[!t]', 'cab', true],
    ['cat', 'CAT', false],
    ['?', '/', false],
    ['*', '/', false],
    ['\\?', '?', true],
    ['\\?', 'a', false],
    ['\\a', 'a', true],
    ['[\\?]', '?', true],
    ['*', '.profile', true],
    ['**/*.rb', 'main.rb', true],
    ['**/*.rb', 'lib/song.rb', true],
    ['**/*.rb', 'lib/a/b/song.rb', true],
    ['**.rb', 'main.rb', true],
    ['**.rb', 'lib/song.rb', false],
    ['**/foo', 'a/.b/c/foo', true],
    ['*', 'dave/.profile', false],
    ['src/**/*.ts', 'src/a.ts', true],
    ['src/**/*.ts', 'src/x/y/a.ts', true],
    ['docs/**', 'docs/a.md', true],
    ['docs/**', 'docs/a/b.md', false],
    ['docs/*', 'docs/a/b.md', false],
    ['c{at,ub}s', 'cubs', true],
    ['c{at,ub}s', 'cats', true],
    ['c{at,ub}s', 'cs', false],
    ['{a,{b,c}}.txt', 'c.txt', true],
    ['{,x}y', 'y', true],
  ])('%s vs %s → %s', (glob, path, expected) => {
    expect(fnmatch(glob, path)).toBe(expected)
  })

  it('treats shell extglobs, regex groups and a leading ! as plain characters', () => {
    expect(fnmatch('!(x)', 'y')).toBe(false)
    expect(fnmatch('!(x)', '!(x)')).toBe(true)
    expect(fnmatch('+(a)', 'a')).toBe(false)
    expect(fnmatch('(a|b)', 'a')).toBe(false)
    expect(fnmatch('!README.md', 'src/a.ts')).toBe(false)
  })

  it('never throws, and odd globs match nothing (or only themselves)', () => {
    for (const glob of ['', '/', '[', '[unclosed', 'a{b', '{', '\\', 'ca[z-a]', '[]', '***', '{,}', '[a-]', '[--]']) {
      expect(() => fnmatch(glob, 'a')).not.toThrow()
    }
    expect(fnmatch('', 'a')).toBe(false)
    expect(fnmatch('[unclosed', '[unclosed')).toBe(false)
    expect(fnmatch('a{b', 'a{b')).toBe(false)
    expect(fnmatch('a}', 'a}')).toBe(true)
    expect(fnmatch('ca[z-a]', 'cat')).toBe(false)
    expect(fnmatch('[]', 'a')).toBe(false)
    expect(fnmatch('[!]', 'a')).toBe(true)
    expect(fnmatch('a\\', 'a')).toBe(true)
  })
})

describe('expandBraces', () => {
  it('expands the first top-level group, then each result', () => {
    expect(expandBraces('{a,b}{c,d}')).toEqual(['ac', 'ad', 'bc', 'bd'])
    expect(expandBraces('x{a,{b,c}}y')).toEqual(['xay', 'xby', 'xcy'])
    expect(expandBraces('\\{a,b}')).toEqual(['\\{a,b}'])
    expect(expandBraces('a{b')).toEqual([])
  })
})
