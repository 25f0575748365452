// ingestd: parses the command line and hands over to app/. Nothing else lives here.
#include "ingest/app/cli.h"

int main(int argc, char** argv) { return ingest::app::RunCli(argc, argv); }
