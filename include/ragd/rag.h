// RAG: answers grounded in a knowledge base (answer.h) and conversation
// memory (sessions.h). Include this for both.
#pragma once

#include "ragd/answer.h"
#include "ragd/sessions.h"
