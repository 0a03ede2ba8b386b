import { describe, expect, it } from 'vitest'
import { checkAllowedImage } from './allowed-images.js'

describe('allowed_images / allowed_services', () => {
  const out = (): { write: (c: string | Buffer) => void; text: () => string } => {
    let s = ''
    return { write: (c) => { s += c.toString() }, text: () => s }
  }

  it('no globs allow any image; a glob matches the image as written or with its default tag', () => {
    const o = out()
    checkAllowedImage('alpine', ['alpine:latest', 'alpine'], [], 'image', o)
    checkAllowedImage('alpine', ['alpine:latest', 'alpine'], ['alpine:*'], 'image', o)
    checkAllowedImage('registry.example.com/team/app:1', ['registry.example.com/team/app:1'], ['registry.example.com/team/*'], 'image', o)
    expect(o.text()).toBe('')
  })

  it('an image outside them fails as a configuration error, with gitlab-runner\'s list in the log', () => {
    const o = out()
    expect(() => checkAllowedImage('postgres:16', ['postgres:16'], ['redis:*', 'mysql:*'], 'service', o))
      .toThrow(expect.objectContaining({ code: 'GLRUN_IMAGE_NOT_ALLOWED', failureReason: 'runner_configuration_error' }))
    expect(o.text()).toContain('ERROR: The "postgres:16" service is not present on list of allowed services:\x1b[0;m\n- redis:*\n- mysql:*\n')
  })
})
