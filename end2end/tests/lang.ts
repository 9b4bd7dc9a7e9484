import { test } from '@playwright/test';

// The flows run in English and in French (the `french` project sets the
// browser's language). Every label goes through `tr`; a label without its
// French here fails the French run at once.
const FR: Record<string, string> = {
  'Email': 'E-mail',
  'Password': 'Mot de passe',
  'Sign in': 'Se connecter',
  'Forgot your password?': 'Mot de passe oublié ?',
  'Forgot your password': 'Mot de passe oublié',
  'Send the link': 'Envoyer le lien',
  'New password (at least 10 characters)': 'Nouveau mot de passe (au moins 10 caractères)',
  'The same password again': 'Le même mot de passe, à nouveau',
  'Save the password and sign in': 'Enregistrer le mot de passe et se connecter',
  'This link has expired or was already used': 'Ce lien a expiré ou a déjà servi',
  'My Account': 'Mon compte',
  'Go to Billing': 'Accéder à la facturation',
  'Subscriptions': 'Abonnements',
  'Free trial': 'Essai gratuit',
  'Trial over': 'Essai terminé',
  'Active': 'Actif',
  'Expired': 'Expiré',
  'Subscribe now': "S'abonner maintenant",
  'More seats': 'Plus de postes',
  'Fewer seats': 'Moins de postes',
  'Annual': 'Annuelle',
  'Monthly': 'Mensuelle',
  'Place order': 'Passer la commande',
  'Review your order': 'Vérifiez votre commande',
  'Card number': 'Numéro de carte',
  'Expiry date (MM/YY)': "Date d'expiration (MM/AA)",
  'CVC': 'Cryptogramme',
  'Save card': 'Enregistrer la carte',
  'A confirmation email has been sent to trial@demo.test': 'Un e-mail de confirmation a été envoyé à trial@demo.test',
  'Export CSV': 'Exporter en CSV',
  'Pending cancellation': 'Annulation en attente',
  'Remove pending cancellation': "Retirer l'annulation en attente",
  'Yes, remove cancellation': "Oui, retirer l'annulation",
  'Close': 'Fermer',
  'Cancel subscription': "Annuler l'abonnement",
  'Confirm cancellation': 'Confirmer la résiliation',
  'You keep access until': "Vous gardez l'accès jusqu'au",
  'Why are you cancelling? (optional)': 'Pourquoi annulez-vous ? (facultatif)',
  'Your subscription is cancelled.': 'Votre abonnement est résilié.',
  'Cancelled: access until': "Résilié : accès jusqu'au",
  'From': 'À partir du',
  'Thank you: your order is confirmed': 'Merci : votre commande est confirmée',
  'Renews on': 'Renouvellement le',
  'Reactivate': 'Réactiver',
  'Modify order': 'Modifier la commande',
  'Cart': 'Panier',
  'Modify': 'Modifier',
  'Subscribe to GoToMeeting': "S'abonner à GoToMeeting",
  'Subscribe to GoToWebinar': "S'abonner à GoToWebinar",
  'Back to app.example.com': 'Retour à app.example.com',
  'Add to cart': 'Ajouter au panier',
  'Remove': 'Supprimer',
  '2 seat(s)': '2 poste(s)',
  'Change': 'Changer',
  'Your card was declined': 'Votre carte a été refusée',
  'Your account is a Corporate account: changes are made with your dedicated representative': 'Votre compte est un compte Entreprise : les modifications se font avec votre représentant dédié',
  'Contact support': "Contacter l'assistance",
  'Subject': 'Objet',
  'Message': 'Message',
  'Send request': 'Envoyer la demande',
  'was sent to support': "a été envoyée à l'assistance",
  'Corporate billing portal': 'Portail de facturation Entreprise',
  'Pay now': 'Payer maintenant',
  'User': 'Utilisateur',
  'Your billing contact is Théo Trial (trial@demo.test)': 'Votre contact de facturation est Théo Trial (trial@demo.test)',
};

export function french(): boolean {
  return (test.info().project.use.locale ?? '').startsWith('fr');
}

export function tr(english: string): string {
  if (!french()) return english;
  const t = FR[english];
  if (t === undefined) throw new Error(`no French for "${english}" in end2end/tests/lang.ts`);
  return t;
}

/** An amount in euros as the page writes it: `€2,851.20` / `2 851,20 €`. */
export function eur(amount: string): string {
  const [int, frac] = amount.split('.');
  if (!french()) return `€${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
  return `${int.replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0')},${frac}\u00a0€`;
}

/** Today in Paris as the page writes dates. */
export function today(): string {
  const now = new Date();
  if (!french()) {
    return now.toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'Europe/Paris' });
  }
  return now.toLocaleDateString('fr-FR', { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'Europe/Paris' });
}
