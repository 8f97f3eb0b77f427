// htevents-cpp-collector: the local batch API endpoint as a program, for demos and load runs.
#include "collector/collector_cli.hpp"

int main(int argc, char** argv) { return htevents::collector::run_collector_cli(argc, argv, "htevents-cpp-collector"); }
