import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeCertificates } from '../git-https.js'

export interface DoubleCertificates {
  /** The throw-away CA, PEM: what a client must trust (`tls-ca-file`). */
  caPem: string
  caPath: string
  cert: string
  key: string
}

/** A fresh CA and a server certificate for 127.0.0.1 and localhost, made with openssl under `dir`. */
export function makeDoubleCertificates(dir: string): DoubleCertificates {
  const files = makeCertificates(join(dir, 'tls'), ['localhost', '127.0.0.1'])
  return { caPem: readFileSync(files.ca, 'utf8'), caPath: files.ca, cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') }
}
