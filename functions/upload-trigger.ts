export const handler = async () => undefined; export const markProcessing = handler; export const finalizeTask = handler;
