"""The directory: who and what is watched. The file's model (``model``), the rules across entries
that the file, the console and the API share (``rules``), reading a file (``file``) and importing
it into the database (``sync``)."""
