from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup file (from `manage.py backup`) into the configured, empty database and MEDIA_ROOT."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The backup file, for example backups/dingzhou-20261126-080000.tar.")
        parser.add_argument("--no-media", action="store_true", help="Restore the database only.")

    def handle(self, *args, file, no_media=False, **options):
        try:
            result = backup_restore(path=file, media=not no_media)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored {result.path} ({result.engine} database, {result.media_files} media files)")
        self.stdout.write("If the backup is older than this code, run `python manage.py migrate` next.")
