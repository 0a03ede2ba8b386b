import { describe, expect, it } from 'vitest'
import { TomlPositions } from './positions.js'

describe('TOML key positions', () => {
  it('follows tables, arrays of tables and nested arrays per element', () => {
    const p = new TomlPositions(`concurrent = 1
[[runners]]
  name = "a"
  [runners.docker]
    extra_hosts = [
      "a:1.1.1.1",
    ]
    image = "x"
    [[runners.docker.services]]
      name = "s1"
    [[runners.docker.services]]
      name = "s2"
[[runners]]
  name = "b"
  pre_build_script = """
  name = "not a key"
  """
  "tls-ca-file" = "/ca"
  [[runners.docker.services]]
    name = "t1"
`)
    expect(p.of('concurrent')).toEqual({ line: 1, col: 1 })
    expect(p.of('runners[0].name')).toEqual({ line: 3, col: 3 })
    expect(p.of('runners[0].docker.image')).toEqual({ line: 8, col: 5 })
    expect(p.of('runners[0].docker.services[1].name')).toEqual({ line: 12, col: 7 })
    expect(p.of('runners[1].name')).toEqual({ line: 14, col: 3 })
    expect(p.of('runners[1].tls-ca-file')).toEqual({ line: 18, col: 3 })
    expect(p.of('runners[1].docker.services[0].name')).toEqual({ line: 20, col: 5 })
    // A key with no line of its own falls back to its table.
    expect(p.of('runners[0].docker.nothing')).toEqual({ line: 4, col: 3 })
  })
})
