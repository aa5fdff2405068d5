/** The environment the engine reads (DOCKER_HOST, SCOPE_ENGINE_PLUGINS, ...), injectable so tests can swap it. */
export type Env = Readonly<Record<string, string | undefined>>;
export const Env = Symbol('Env');

/** The DI container an engine was built in, so it can make child containers for its plugins. */
export const DIContainer = Symbol('DIContainer');
