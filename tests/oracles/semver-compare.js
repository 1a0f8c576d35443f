// Reads "a b" pairs, one a line, from stdin; prints semver.compare(a, b)
// (-1, 0, 1) a line, as npm reads versions (loose), or "error".
const semver = require("semver");
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
const out = lines.map((l) => {
  const [a, b] = l.split(" ");
  try {
    return String(semver.compare(a, b, { loose: true }));
  } catch (e) {
    return "error";
  }
});
process.stdout.write(out.join("\n") + "\n");
