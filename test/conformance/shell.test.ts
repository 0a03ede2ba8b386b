import { ShellExecutor } from '../../src/executors/shell/shell-executor.js'
import { describeExecutorConformance } from './executor-conformance.js'

describeExecutorConformance('shell', () => new ShellExecutor())
