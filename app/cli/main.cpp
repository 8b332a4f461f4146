#include "distillery/core/version.h"

#include <iostream>

int main(int argc, char **argv)
{
    std::cout << "distillery-cli " << distillery::core::versionString() << "\n";
    return 0;
}
