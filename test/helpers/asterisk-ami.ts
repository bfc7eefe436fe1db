// Moved to lib/sandbox/ so the sandbox command can use it too; kept here for the tests' imports.
export * from '../../lib/sandbox/asterisk-ami.js';
