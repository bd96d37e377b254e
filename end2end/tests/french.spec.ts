import { expect, test, type Page } from '@playwright/test';
import {
  fakeClientIp, hostSession, hydrated, jsEnabled, mailTo, noSeriousAccessibilityIssue, PASSWORD, uniqueEmail,
} from './helpers';

// A browser asking for French gets every page in French (the home page and its join banner, a
// refused code, the top bar, the participant's page and its Discussion, the closed screen,
// signing up and logging in, My sessions, the host's page, My account, a forgotten password) and
// its mails too; the switch moves between the languages. On each page, no English word is left,
// and axe finds nothing serious.
test.use({ locale: 'fr-FR' });

/** Fails when the page's visible text has an English word left: the words below appear in
 * nearly every English sentence of Ruche and in no French one (user text here is French). */
async function noEnglishLeft(page: Page) {
  const text = await page.locator('body').innerText();
  const english = /\b(the|and|your|you|with|this|has|have|not|yet|join|save|send|like|likes|delete|edit|session is|log in|sign up|my sessions|nickname|older|connection)\b/i;
  const found = text.match(english);
  expect(found, `English left on ${page.url()}: "${found?.[0]}" in\n${text}`).toBeNull();
  await noSeriousAccessibilityIssue(page);
}

test('a French browser joins in French, and the switch moves to English and back @nojs', async ({ page }) => {
  await page.context().setExtraHTTPHeaders({ 'X-Forwarded-For': fakeClientIp() });
  await page.goto('/');
  await hydrated(page);
  await expect(page.locator('html')).toHaveAttribute('lang', 'fr');
  await expect(page.getByRole('heading', { name: 'Rejoindre une session' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Des sessions en direct que votre public rejoint depuis son téléphone' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Se connecter' })).toBeVisible();
  await noEnglishLeft(page);

  await page.getByLabel('Code de la session').fill('000 000');
  await page.getByRole('button', { name: 'Rejoindre' }).click();
  await expect(page.getByRole('alert')).toHaveText('Aucune session n’a ce code. Vérifiez le code et réessayez.');
  await expect(page).toHaveTitle('Rejoindre une session · Ruche');
  await noEnglishLeft(page);

  const session = await hostSession('Séance en français');
  await page.getByLabel('Code de la session').fill(session.code);
  await page.getByRole('button', { name: 'Rejoindre' }).click();
  await expect(page).toHaveURL(new RegExp(`/p/${session.id}$`));
  await expect(page.getByRole('heading', { name: 'Séance en français' })).toBeVisible();
  await expect(page.getByText('L’animateur n’a pas encore montré de diapositive.')).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Pseudo (facultatif)').fill('Zoé');
  await page.getByRole('button', { name: 'Enregistrer le pseudo' }).click();
  await expect(page.getByText('Vous apparaissez sous le nom Zoé.')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Discussion' })).toBeVisible();
  await page.getByLabel('Votre message').fill('Bonjour à tous');
  await page.getByRole('button', { name: 'Envoyer' }).click();
  const mine = page.getByRole('listitem').filter({ hasText: 'Bonjour à tous' });
  await expect(mine).toContainText('0 j’aime');
  await expect(mine.getByRole('button', { name: 'J’aime' })).toBeVisible();
  await noEnglishLeft(page);

  // The closed screen, live with JavaScript, on the next load without.
  await session.call('set_session_open', { id: session.id, open: 'false' });
  if (!jsEnabled()) await page.reload();
  await expect(page.getByRole('heading', { name: 'Cette session est fermée.' })).toBeVisible();
  await expect(page.getByText('L’animateur a fermé cette session.')).toBeVisible();
  await expect(page).toHaveTitle('Session fermée · Ruche');
  await noEnglishLeft(page);

  await page.goto('/');
  await page.getByRole('link', { name: 'English' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('heading', { name: 'Join a session' })).toBeVisible();
  await page.getByRole('link', { name: 'Français' }).click();
  await expect(page.getByRole('heading', { name: 'Rejoindre une session' })).toBeVisible();
});

test('signing up and logging in speak French, refusals included @nojs', async ({ page }) => {
  await page.context().setExtraHTTPHeaders({ 'X-Forwarded-For': fakeClientIp() });
  await page.goto('/');
  await page.getByRole('link', { name: 'S’inscrire' }).click();
  await expect(page.getByRole('heading', { name: 'Créer votre compte' })).toBeVisible();
  await expect(page).toHaveTitle('Inscription · Ruche');
  await hydrated(page);
  await page.getByLabel('Adresse e-mail').fill('pas une adresse');
  await page.getByLabel('Votre nom').fill('Zoé');
  await page.getByLabel('Mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'S’inscrire' }).click();
  await expect(page.getByRole('alert')).toHaveText('Saisissez une adresse e-mail valide, comme nom@exemple.fr.');
  await noEnglishLeft(page);

  // Signed up: My sessions and creating one, in French.
  const email = uniqueEmail('zoe');
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Votre nom').fill('Zoé');
  await page.getByLabel('Mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'S’inscrire' }).click();
  await expect(page.getByRole('heading', { name: 'Mes sessions' })).toBeVisible();
  await expect(page.getByText('Vous n’avez pas encore de session')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Vérification de l’adresse e-mail' })).toBeVisible();
  await noEnglishLeft(page);
  // Zoé signed up in French: her verification mail is in French.
  await mailTo(email, 'Confirmer mon adresse');
  await page.getByRole('link', { name: 'Zoé', exact: true }).click();
  await expect(page).toHaveTitle('Mon compte · Ruche');
  await expect(page.getByRole('heading', { name: 'Identifiant et mot de passe' })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Ancien mot de passe').fill('pas le bon mot de passe');
  await page.getByLabel('Votre nouveau mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'Changer mon mot de passe' }).click();
  await expect(page.getByRole('alert')).toHaveText('L’ancien mot de passe est incorrect.');
  await noEnglishLeft(page);
  await page.getByRole('link', { name: 'Mes sessions' }).click();
  await page.getByRole('link', { name: 'Créer une session' }).first().click();
  await expect(page).toHaveTitle('Créer une session · Ruche');
  await hydrated(page);
  await page.getByRole('button', { name: 'Créer la session' }).click();
  await expect(page.getByRole('alert')).toHaveText('Donnez à la session un titre de 1 à 120 caractères.');
  await noEnglishLeft(page);
  await page.getByLabel('Titre').fill('Cours de biologie');
  await page.getByRole('button', { name: 'Créer la session' }).click();
  await expect(page).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
  // The host's page: sharing and the padlock, in French.
  await expect(page.getByRole('heading', { name: 'Cours de biologie' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Diapositives' })).toBeVisible();
  await noEnglishLeft(page);
  if (jsEnabled()) {
    await hydrated(page);
    await page.getByRole('button', { name: 'Partager', exact: true }).click();
    const share = page.getByRole('dialog', { name: 'Partager' });
    await expect(share.getByRole('heading', { name: 'Lien public' })).toBeVisible();
    await expect(share.getByRole('heading', { name: 'Code de la session' })).toBeVisible();
    await noEnglishLeft(page);
    await share.getByRole('button', { name: 'Terminé' }).click();
  }
  await page.getByRole('button', { name: 'Session ouverte' }).click();
  await expect(page.getByRole('button', { name: 'Session fermée' })).toBeVisible();
  await page.goto('/sessions');
  const line = page.getByRole('listitem').filter({ hasText: 'Cours de biologie' });
  await expect(line).toContainText('Fermée');
  await noEnglishLeft(page);
  await page.getByRole('link', { name: 'Se déconnecter' }).or(page.getByRole('button', { name: 'Se déconnecter' })).click();

  await page.goto('/login');
  await expect(page).toHaveTitle('Connexion · Ruche');
  await hydrated(page);
  await page.getByLabel('Adresse e-mail').fill(uniqueEmail('nobody'));
  await page.getByLabel('Mot de passe').fill('pas le bon mot de passe');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await expect(page.getByRole('alert')).toHaveText('L’adresse e-mail ou le mot de passe est incorrect.');
  await noEnglishLeft(page);

  await page.getByRole('link', { name: 'Mot de passe oublié ?' }).click();
  await expect(page).toHaveTitle('Mot de passe oublié · Ruche');
  await hydrated(page);
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByRole('button', { name: 'M’envoyer un lien' }).click();
  await expect(page.getByRole('status')).toHaveText('Si un compte utilise cette adresse, un message est en route.');
  await noEnglishLeft(page);
  await mailTo(email, 'Choisir un nouveau mot de passe');
});
