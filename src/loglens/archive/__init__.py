"""The archive: every accepted line kept, in gzip segments per source, in a local folder or in S3.

The :class:`~loglens.archive.sink.ArchiveSink` appends each batch's raw lines to the open segment of
its source in the local spool (``{state.dir}/archive-spool``), and reports as its checkpoint state only
what is fsynced there; a restart cuts the open segment back to that length, so a line read again is
not archived twice. A closed segment is handed to the backend (``local.py`` moves it into the archive
folder, ``s3.py`` uploads it) by the publisher's thread once a checkpoint that knows it closed is saved.
``loglens archive ls|cat|replay`` (``command.py``) reads both backends.
"""
