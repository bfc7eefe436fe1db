/**
 * Hand-written types for asterisk-manager 0.2.0 (CommonJS, untyped), covering
 * only what lib/ami/client.ts uses. Behaviour worth knowing (see ASTERISK.md):
 * keys arrive lowercased, `variable` lines become an object, a repeated key an
 * array; actions sent before `login()` succeeds are held forever; no timeouts.
 */
declare module 'asterisk-manager' {
  namespace AsteriskManager {
    type RawValue = string | string[] | Record<string, string>;
    type RawMessage = Record<string, RawValue>;
    type ActionValue = string | number | boolean | Readonly<Record<string, string | number | boolean>> | undefined;
    type ActionFields = Record<string, ActionValue>;

    interface Options {
      port: number | undefined;
      host: string;
      username: string;
      password: string;
      events: boolean;
    }

    interface Manager {
      readonly options: Options;
      on(event: 'managerevent' | 'response' | 'asterisk', listener: (msg: RawMessage) => void): this;
      on(event: 'connect' | 'close' | 'end', listener: () => void): this;
      on(event: 'error', listener: (err: Error) => void): this;
      on(event: string, listener: (...args: any[]) => void): this;
      once(event: string, listener: (...args: any[]) => void): this;
      removeListener(event: string, listener: (...args: any[]) => void): this;
      removeAllListeners(event?: string): this;
      listeners(event: string): Function[];
      emit(event: string, ...args: unknown[]): boolean;
      /** Opens the TCP connection (no login); `callback` runs on 'connect' only. */
      connect(port: number, host: string, callback?: (err: null) => void): void;
      /** Sends Login with the constructor's credentials; `err` is the Error response. */
      login(callback?: (err?: RawMessage) => void): void;
      /**
       * Sends an action; `actionid` in the fields is used as the ActionID.
       * The callback gets `(errorResponse | undefined, response)`. Returns the ActionID.
       */
      action(fields: ActionFields, callback?: (err: RawMessage | undefined, response: RawMessage) => void): string;
      /** Ends the socket (if open) and forgets it; removes the package's own reconnect. */
      disconnect(callback?: () => void): void;
      isConnected(): boolean;
      connected(): boolean;
      /** The package's own reconnect (10 s growing to 60 s); not used by the adapter. */
      keepConnected(): void;
    }

    type ManagerFactory = (
      port?: number,
      host?: string,
      username?: string,
      password?: string,
      events?: boolean,
    ) => Manager;
  }

  /** With a port, connects and logs in at once (silently on failure); without, does nothing yet. */
  function AsteriskManager(
    port?: number,
    host?: string,
    username?: string,
    password?: string,
    events?: boolean,
  ): AsteriskManager.Manager;

  export = AsteriskManager;
}
