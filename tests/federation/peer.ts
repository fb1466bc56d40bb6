// A Fedify peer for Speakout's federation tests, run by Deno on loopback.
//
// It serves an actor (/users/alice, and /users/alice-moved for a Move) with keys made at start, verifies every activity delivered
// to its inboxes (Fedify answers 401 to a bad or missing signature, so only verified activities
// are recorded) and, on the test's request, signs and sends the activity it is given; a Note it
// sent is served at its id (/notes/...), which is under no actor's address, as on Misskey. The
// control paths (/control/...) are for the test only.
import {
  createFederation,
  generateCryptoKeyPair,
  MemoryKvStore,
} from "npm:@fedify/fedify@2.3.6";
import { Activity, Endpoints, Person } from "npm:@fedify/vocab@2.3.6";

const keys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const ACTORS = ["alice", "alice-moved"];
const received: unknown[] = [];
// The Notes alice sent (Create, Update), served at their ids as her server would serve them.
const notes = new Map<string, unknown>();
let down = false; // the test can make the inboxes answer 503, as a peer that is down would

const federation = createFederation<void>({
  kv: new MemoryKvStore(),
  // Speakout runs on 127.0.0.1 over plain HTTP in the tests.
  allowPrivateAddress: true,
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (!ACTORS.includes(identifier)) return null;
    const pairs = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Alice Peer",
      url: new URL(`/@${identifier}`, ctx.url),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: pairs[0].cryptographicKey,
      assertionMethods: pairs.map((pair) => pair.multikey),
      // alice-moved is where alice moves to: it names alice as its former self (alsoKnownAs).
      aliases: identifier === "alice-moved" ? [ctx.getActorUri("alice")] : [],
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (ACTORS.includes(identifier) ? [keys] : []));

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .onError((_ctx, error) => console.log("inbox error:", String(error), error?.stack ?? ""))
  .on(Activity, async (ctx, activity) => {
    // Fedify calls listeners only for activities whose signature it verified against the
    // actor's key (an unsigned or wrongly signed one is answered 401 before this).
    received.push({
      activity: await activity.toJsonLd({ format: "compact" }),
      signer: activity.actorId?.href ?? null,
    });
  });

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

async function control(request: Request, url: URL): Promise<Response> {
  if (url.pathname === "/control/received") return json(received);
  if (url.pathname === "/control/down") {
    down = (await request.json()).down === true;
    return json({ down });
  }
  if (url.pathname === "/control/send" && request.method === "POST") {
    // {activity: JSON-LD, actor: recipient actor URL, inbox: its inbox URL}
    const order = await request.json();
    const object = order.activity?.object;
    if (["Create", "Update"].includes(order.activity?.type) && typeof object?.id === "string") {
      notes.set(new URL(object.id).pathname, { "@context": "https://www.w3.org/ns/activitystreams", ...object });
    }
    const ctx = federation.createContext(new URL(url.origin), undefined);
    const activity = await Activity.fromJsonLd(order.activity, { documentLoader: ctx.documentLoader });
    try {
      await ctx.sendActivity(
        { identifier: "alice" },
        { id: new URL(order.actor), inboxId: new URL(order.inbox) },
        activity,
        { immediate: true },
      );
    } catch (error) {
      return json({ ok: false, error: String(error) }, 502);
    }
    return json({ ok: true });
  }
  return json({ error: "unknown control path" }, 404);
}

Deno.serve(
  {
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => console.log(JSON.stringify({ port })),
  },
  async (request) => {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/control/")) return await control(request, url);
    if (down && request.method === "POST") return new Response("down", { status: 503 });
    if (request.method === "GET" && notes.has(url.pathname)) {
      return new Response(JSON.stringify(notes.get(url.pathname)), {
        headers: { "Content-Type": "application/activity+json" },
      });
    }
    try {
      return await federation.fetch(request, { contextData: undefined });
    } catch (error) {
      console.log("peer error:", String(error), (error as Error)?.stack ?? "");
      return new Response(String(error), { status: 500 });
    }
  },
);
