// A plug-in entry that fails to load (test/pool/plugins.test.ts): what a pool worker does when it can't
// import a plug-in its calling thread has.
throw new Error('this plug-in module fails to load');
