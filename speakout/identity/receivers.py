"""Accounts made by an operator (createsuperuser, speakout_ensure_admin) or by staff in the
Wagtail admin are vouched for: their email address counts as verified, so allauth's mandatory
verification does not lock the first administrator out."""

from __future__ import annotations


def mark_email_verified(user) -> None:
    from allauth.account.models import EmailAddress

    email = (user.email or "").strip()
    if not email:
        return
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        EmailAddress.objects.filter(user=user, primary=True).update(primary=False)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    elif not address.verified or not address.primary:
        EmailAddress.objects.filter(user=user, primary=True).exclude(pk=address.pk).update(primary=False)
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])


def superuser_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw and instance.is_superuser:
        mark_email_verified(instance)


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_save

    post_save.connect(superuser_saved, sender=get_user_model(), dispatch_uid="speakout-identity-superuser-email")
