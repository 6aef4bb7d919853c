from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Write a backup of the database (pg_dump, or the SQLite file) and MEDIA_ROOT into one tar file."

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="Folder for the backup file (default: BACKUP_DIR, backups/).")

    def handle(self, *args, dir=None, **options):
        try:
            result = backup_create(directory=dir)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{result.path} ({result.engine} database, {result.media_files} media files)")
