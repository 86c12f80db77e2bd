// Loads an ASL file for serverless.yml as a JSON string for DefinitionString. Its ${...} placeholders are
// CloudFormation DefinitionSubstitutions; returning the text from here keeps the Serverless Framework
// from reading them as its own variables.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const load = (name) => JSON.stringify(JSON.parse(readFileSync(join(__dirname, name), 'utf8')));

module.exports = {
  taskFlow: () => load('task-flow.asl.json'),
};
