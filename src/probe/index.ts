/** Active checks of the network and trust, for the troubleshooter and `glrun doctor`. */
export { probeDns } from './dns.js'
export { probeTcp } from './tcp.js'
export { type TlsProbeOptions, type TlsProblem, probeTls } from './tls.js'
export { type RegistryProbeOptions, probeRegistry } from './registry.js'
export { type ConnectOutcome, connectOutcome } from './outcome.js'
