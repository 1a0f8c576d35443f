// Validates an Adaptive Card with Microsoft's own library (npm
// `adaptivecards`): its parse and validation events, as JSON.
const AC = require("adaptivecards/dist/adaptivecards.js");
const json = JSON.parse(require("fs").readFileSync(0, "utf8"));
const card = new AC.AdaptiveCard();
const ctx = new AC.SerializationContext();
card.parse(json, ctx);
const errors = [];
for (let i = 0; i < ctx.eventCount; i++) errors.push(ctx.getEventAt(i).message);
for (const e of card.validateProperties().validationEvents) errors.push(e.message);
console.log(JSON.stringify({ errors }));
