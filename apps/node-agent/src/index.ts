// Public API of the node agent (the dev launcher and e2e harness start it in-process).

export { startNodeAgent, type NodeAgent, type NodeAgentOptions } from './agent';
