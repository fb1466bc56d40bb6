from django.db import migrations


def avatars_follow_proof(apps, schema_editor):
    """Draw every stored reply's avatar again from what proves who wrote it (account, commenter
    record, guest token), never from the address typed: keys made from addresses are dropped.
    Replies with the plain avatar (imported in bulk) keep it."""
    from speakout.discussion.avatars import DEFAULT_KEY, avatar_for

    Reply = apps.get_model("speakout_discussion", "Reply")
    rows = Reply.objects.exclude(avatar_key__in=["", DEFAULT_KEY]).order_by("pk")
    for pk, user_id, commenter_id, guest_key in rows.values_list("pk", "user_id", "commenter_id", "guest_key").iterator(
        chunk_size=2000
    ):
        key = avatar_for(user_id=user_id, commenter_id=commenter_id, guest_key=guest_key)
        Reply.objects.filter(pk=pk).update(avatar_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("speakout_discussion", "0008_reply_language"),
    ]

    operations = [
        migrations.RunPython(avatars_follow_proof, migrations.RunPython.noop, elidable=True),
    ]
