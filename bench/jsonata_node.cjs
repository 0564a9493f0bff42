// The reference JSONata implementation on the same data, for the --jsonata comparison:
// node jsonata_node.cjs <expression> <file.json>
const jsonata = require("jsonata");
const fs = require("fs");
const [expression, file] = process.argv.slice(2);
jsonata(expression)
  .evaluate(JSON.parse(fs.readFileSync(file, "utf8")))
  .then((result) => console.log(JSON.stringify(result)));
