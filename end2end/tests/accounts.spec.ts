import { MANAGER, anonymous, expect, hydrated, signIn, test } from "./fixtures";
import { addBatch, allocate, rows, unique } from "./desk";

// Runs first (files run in name order): the desk is fresh, with no account yet.
anonymous("a fresh desk sets up its first manager, who signs out and back in", async ({ page }) => {
  await page.goto("/batches");
  await expect(page).toHaveURL("/setup");
  await page.getByLabel("Username").fill(MANAGER.username);
  await page.getByLabel("Password", { exact: true }).fill(MANAGER.password);
  await page.getByLabel("Password again").fill(MANAGER.password);
  await page.getByRole("button", { name: "Create the first manager" }).click();
  await expect(page).toHaveURL("/");
  await expect(page.locator(".signed-in")).toContainText(`${MANAGER.username} · manager`);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL("/login");
  await page.goto("/orders");
  await expect(page).toHaveURL("/login?next=%2Forders");
  await page.getByLabel("Username").fill(MANAGER.username);
  await page.getByLabel("Password").fill(MANAGER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL("/orders");
  await hydrated(page);
});

anonymous.describe("without JavaScript", () => {
  anonymous.use({ javaScriptEnabled: false });

  anonymous("a wrong password is refused without saying which part was wrong", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Username").fill(MANAGER.username);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("Wrong username or password");
    await expect(page.getByLabel("Username")).toHaveValue(MANAGER.username);
    await expect(page.getByLabel("Password")).toHaveValue("");
  });

  anonymous("signing in and out work as plain forms", async ({ page }) => {
    await signIn(page, MANAGER);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL("/login");
  });
});

test("a clerk made on the accounts page allocates but sees no batch forms", async ({ page }) => {
  const clerk = { username: unique("clerk").toLowerCase(), password: "clerk password" };
  await page.goto("/accounts");
  await hydrated(page);
  const add = page.locator("section", { has: page.getByRole("heading", { name: "Add account" }) });
  await add.getByLabel("Username").fill(clerk.username);
  await add.getByLabel("Password").fill(clerk.password);
  await add.getByLabel("Role").selectOption("clerk");
  await add.getByRole("button", { name: "Add account" }).click();
  await expect(page.locator("table.accounts")).toContainText(clerk.username);

  const sku = unique("CLERK-LAMP");
  const ref = unique("clerk-batch");
  await addBatch(page, { ref, sku, qty: 10 });

  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, clerk);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Allocate" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Accounts" })).toHaveCount(0);
  await page.goto("/batches");
  await expect(page.getByRole("heading", { name: "Add batch" })).toHaveCount(0);
  await page.goto(`/batches/${ref}`);
  await expect(page.getByRole("heading", { name: "Change quantity" })).toHaveCount(0);
  await expect(page.locator('[data-figure="changed-by"]')).toHaveText(MANAGER.username);

  // What the clerk does is recorded as the clerk's.
  const orderid = unique("clerk-order");
  await allocate(page, { orderid, sku, qty: 2 });
  await expect(page).toHaveURL(`/orders/${orderid}`);
  expect(await rows(page, "allocations")).toEqual([[sku, ref, "2", clerk.username]]);
  await page.goto(`/activity?by=${clerk.username}`);
  await expect(page.locator("table.activity tbody tr")).toHaveCount(1);
  await expect(page.locator("table.activity")).toContainText(`Allocated 2 × ${sku} of order ${orderid}`);
});

test("an API token is shown once, works, and stops working when revoked", async ({ page, playwright, baseURL }) => {
  const name = unique("shop");
  await page.goto("/accounts");
  await hydrated(page);
  const create = page.locator("section", { has: page.getByRole("heading", { name: "Create API token" }) });
  await create.getByLabel("Name").fill(name);
  await create.getByLabel("Role").selectOption("clerk");
  await create.getByRole("button", { name: "Create token" }).click();
  const shown = page.locator("[data-token]");
  await expect(shown).toBeVisible();
  const token = (await shown.textContent())!.trim();
  await page.reload();
  await expect(page.locator("[data-token]")).toHaveCount(0);

  const machine = await playwright.request.newContext({ baseURL });
  const bearer = { Authorization: `Bearer ${token}` };
  expect((await machine.get("/allocations/nobody", { headers: bearer })).status()).toBe(404);
  const row = page.locator("table.tokens tr", { hasText: name });
  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(row).toContainText("revoked");
  expect((await machine.get("/allocations/nobody", { headers: bearer })).status()).toBe(401);
  await machine.dispose();
});
