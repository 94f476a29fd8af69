// ragd eval answers: answer each judged question of a BEIR folder, then
// score it lexically (answer_metrics.h), by embedding similarity, and — in
// the manner of RAGAS — by the model as a judge: faithfulness (claims the
// context supports) and answer relevancy (questions regenerated from the
// answer, compared with the real one).
#include "ragd/answer_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "core/status_macros.h"
#include "core/text.h"
#include "eval/answer_metrics.h"
#include "eval/beir.h"
#include "eval/judge.h"

namespace ragd {

namespace {

using Clock = std::chrono::steady_clock;

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) dot += static_cast<double>(a[i]) * b[i];
  return dot;  // embedders return L2-normalised vectors
}

Result<std::vector<std::vector<float>>> EmbedAll(Embedder& e, const std::vector<std::string>& texts, EmbedKind kind) {
  std::vector<float> flat(texts.size() * e.dim());
  if (!texts.empty()) RAGD_RETURN_IF_ERROR(e.Embed(texts, kind, flat.data()));
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < texts.size(); ++i) out.emplace_back(flat.begin() + i * e.dim(), flat.begin() + (i + 1) * e.dim());
  return out;
}

// Each metric by name: a plain score or one that may be unset.
struct MetricField {
  const char* name;
  double AnswerScores::*plain;
  std::optional<double> AnswerScores::*optional;
};

const std::vector<MetricField>& MetricFields() {
  static const std::vector<MetricField> fields = {
      {"context_recall_exact", &AnswerScores::context_recall_exact, nullptr},
      {"context_recall_normalized", &AnswerScores::context_recall_normalized, nullptr},
      {"exact_match", &AnswerScores::exact_match, nullptr},
      {"f1", &AnswerScores::f1, nullptr},
      {"reference_recall", &AnswerScores::reference_recall, nullptr},
      {"rouge1", &AnswerScores::rouge1, nullptr},
      {"rouge2", &AnswerScores::rouge2, nullptr},
      {"rougeL", &AnswerScores::rougeL, nullptr},
      {"rougeS", &AnswerScores::rougeS, nullptr},
      {"semantic_similarity", &AnswerScores::semantic_similarity, nullptr},
      {"faithfulness", nullptr, &AnswerScores::faithfulness},
      {"answer_relevancy", nullptr, &AnswerScores::answer_relevancy},
      {"citation_accuracy", nullptr, &AnswerScores::citation_accuracy}};
  return fields;
}

const MetricField* FindMetric(const std::string& name) {
  for (const auto& f : MetricFields())
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace

std::optional<double> AnswerMetric(const AnswerScores& s, const std::string& name) {
  const MetricField* f = FindMetric(name);
  if (!f) return std::nullopt;
  return f->plain ? std::optional<double>(s.*(f->plain)) : s.*(f->optional);
}

const std::vector<std::string>& AnswerMetricNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& f : MetricFields()) n.push_back(f.name);
    return n;
  }();
  return names;
}

bool SetAnswerMetric(AnswerScores& s, const std::string& name, double value) {
  const MetricField* f = FindMetric(name);
  if (!f) return false;
  if (f->plain) s.*(f->plain) = value;
  else s.*(f->optional) = value;
  return true;
}

Result<AnswerEvalReport> EvaluateAnswers(Engine& engine, ChatModel& model, const Prompts& prompts,
                                         const AnswerEvalOptions& options, const ProgressFn& progress,
                                         const AnswerEvalSink& sink) {
  auto t0 = Clock::now();
  RAGD_ASSIGN_OR_RETURN(eval::BeirSet set, eval::ReadBeir(options.beir_dir, options.split));
  RAGD_ASSIGN_OR_RETURN(auto answers, eval::ReadAnswers(options.beir_dir));
  AnswerEvalReport report;
  IngestReport ingest;
  RAGD_ASSIGN_OR_RETURN(report.kb, eval::BuildBeirKb(engine, set, options.beir_dir, options.kb, SplitOptions{},
                                                      progress, &ingest));
  RAGD_ASSIGN_OR_RETURN(Embedder * embedder, engine.embedder());
  report.semantic_method = "sentence cosine with " + embedder->model_id() +
                           " (the embedder exposes no token vectors, so no greedy token matching)";

  std::vector<const eval::BeirQuery*> todo;
  for (const auto& q : set.queries)
    if (!text::Trim(q.text).empty() && answers.count(q.id) && !answers[q.id].empty()) todo.push_back(&q);
  if (options.limit > 0 && static_cast<int>(todo.size()) > options.limit) todo.resize(options.limit);
  if (todo.empty())
    return Status::InvalidArgument("no judged question of " + options.beir_dir + " has reference answers in answers.jsonl");

  AskOptions ask = options.ask;
  ask.kb = report.kb;
  Assistant assistant(&engine, &model, &prompts);
  IngestProgress prog;
  prog.total = static_cast<int64_t>(todo.size());
  auto advance = [&](const std::string& id) {
    ++prog.done;
    prog.current = id;
    if (progress) progress(prog);
  };
  std::map<std::string, const AnswerEvalRecord*> done;
  for (const auto& r : options.done) done[r.id] = &r;
  for (const eval::BeirQuery* q : todo) {
    if (auto it = done.find(q->id); it != done.end()) {
      report.answerable_refused += !it->second->found;
      report.records.push_back(*it->second);
      advance(q->id);
      continue;
    }
    auto tq = Clock::now();
    AnswerEvalRecord rec;
    rec.id = q->id;
    rec.question = q->text;
    rec.references = answers[q->id];
    RAGD_ASSIGN_OR_RETURN(Answer a, assistant.Ask(q->text, ask));
    rec.answer = std::string(text::Trim(a.text));
    rec.found = a.found;
    rec.refusal = RefusalReason(a);
    rec.prompt_tokens = a.generation.prompt_tokens;
    rec.cached_prompt_tokens = a.generation.cached_prompt_tokens;
    rec.first_token_seconds = a.generation.first_token_seconds;
    std::string context;
    for (const auto& s : a.sources) {
      rec.sources.push_back(SourceLabel(s.hit));
      if (s.cited) rec.cited_doc_ids.push_back(s.hit.doc_id);
      context += s.hit.text + "\n\n";
    }
    AnswerScores& sc = rec.scores;
    sc.reference_recall = eval::ReferenceRecall(rec.answer, rec.references);
    if (!a.found) ++report.answerable_refused;
    if (auto qr = set.qrels.find(q->id); a.found && qr != set.qrels.end() && !qr->second.empty()) {
      bool right = false;
      for (const auto& d : rec.cited_doc_ids)
        if (auto it = qr->second.find(d); it != qr->second.end() && it->second > 0) right = true;
      sc.citation_accuracy = right ? 1.0 : 0.0;
    }
    sc.context_recall_exact = eval::ContextRecall(context, rec.references, false);
    sc.context_recall_normalized = eval::ContextRecall(context, rec.references, true);
    sc.exact_match = eval::ExactMatch(rec.answer, rec.references);
    sc.f1 = eval::TokenF1(rec.answer, rec.references);
    sc.rouge1 = eval::RougeN(rec.answer, rec.references, 1).f1;
    sc.rouge2 = eval::RougeN(rec.answer, rec.references, 2).f1;
    sc.rougeL = eval::RougeL(rec.answer, rec.references).f1;
    sc.rougeS = eval::RougeS(rec.answer, rec.references).f1;
    if (!rec.answer.empty()) {
      std::vector<std::string> texts = {rec.answer};
      texts.insert(texts.end(), rec.references.begin(), rec.references.end());
      RAGD_ASSIGN_OR_RETURN(auto vecs, EmbedAll(*embedder, texts, EmbedKind::kPassage));
      for (size_t i = 1; i < vecs.size(); ++i) sc.semantic_similarity = std::max(sc.semantic_similarity, Cosine(vecs[0], vecs[i]));
    }

    if (options.judge && a.found && !rec.answer.empty()) {
      const std::string lang = a.language;
      // Faithfulness: the share of the answer's claims the context supports.
      RAGD_ASSIGN_OR_RETURN(std::string claims_prompt,
                            prompts.Render("judge_claims", lang, {{"question", q->text}, {"answer", rec.answer}}));
      RAGD_ASSIGN_OR_RETURN(ChatResult claims, model.Chat(std::vector<ChatMessage>{{"user", claims_prompt}},
                                                          eval::JudgeOptions(ask.generate, 160)));
      for (std::string_view rest = claims.text; !rest.empty();) {
        size_t nl = rest.find('\n');
        std::string line(text::Trim(rest.substr(0, nl)));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        while (!line.empty() && (line[0] == '-' || line[0] == '*' || std::isdigit(static_cast<unsigned char>(line[0])) ||
                                 line[0] == '.' || line[0] == ' '))
          line.erase(0, 1);
        if (!line.empty() && !line.starts_with("NONE")) rec.claims.push_back(line);
      }
      // A model that lists nothing still made the answer: judge it whole.
      if (rec.claims.empty()) rec.claims.push_back(rec.answer);
      int supported = 0;
      for (const auto& claim : rec.claims) {
        RAGD_ASSIGN_OR_RETURN(bool yes, eval::VerifyClaim(model, prompts, lang, context, claim, ask.generate));
        supported += yes;
      }
      sc.faithfulness = static_cast<double>(supported) / rec.claims.size();

      // Answer relevancy: questions regenerated from the answer vs the real one.
      std::vector<std::string> regenerated;
      for (int i = 0; i < options.relevancy_questions; ++i) {
        RAGD_ASSIGN_OR_RETURN(std::string qp, prompts.Render("judge_question", lang, {{"answer", rec.answer}}));
        RAGD_ASSIGN_OR_RETURN(ChatResult g, model.Chat(std::vector<ChatMessage>{{"user", qp}},
                                                       eval::JudgeOptions(ask.generate, 48, i + 1, 0.7)));
        std::string line(text::Trim(g.text.substr(0, g.text.find('\n'))));
        if (!line.empty()) regenerated.push_back(line);
      }
      if (!regenerated.empty()) {
        std::vector<std::string> texts = {q->text};
        texts.insert(texts.end(), regenerated.begin(), regenerated.end());
        RAGD_ASSIGN_OR_RETURN(auto vecs, EmbedAll(*embedder, texts, EmbedKind::kQuery));
        double sum = 0;
        for (size_t i = 1; i < vecs.size(); ++i) sum += Cosine(vecs[0], vecs[i]);
        sc.answer_relevancy = sum / regenerated.size();
      }
    }
    rec.seconds = std::chrono::duration<double>(Clock::now() - tq).count();
    if (sink.answered) sink.answered(rec);
    report.records.push_back(std::move(rec));
    advance(q->id);
  }

  // Questions without an answer in the corpus: refused or not.
  if (!options.unanswerable_file.empty()) {
    RAGD_ASSIGN_OR_RETURN(auto questions, eval::ReadQuestions(options.unanswerable_file));
    if (options.unanswerable_limit > 0 && static_cast<int>(questions.size()) > options.unanswerable_limit)
      questions.resize(options.unanswerable_limit);
    prog.total += static_cast<int64_t>(questions.size());
    std::map<std::string, const UnanswerableRecord*> done_u;
    for (const auto& u : options.done_unanswerable) done_u[u.id] = &u;
    for (const auto& q : questions) {
      if (auto it = done_u.find(q.id); it != done_u.end()) {
        report.unanswerable_refused += it->second->refused;
        report.unanswerable.push_back(*it->second);
        advance(q.id);
        continue;
      }
      auto tq = Clock::now();
      RAGD_ASSIGN_OR_RETURN(Answer a, assistant.Ask(q.text, ask));
      UnanswerableRecord u{q.id, q.text, std::string(text::Trim(a.text)), !a.found, RefusalReason(a),
                           a.generation.prompt_tokens,
                           std::chrono::duration<double>(Clock::now() - tq).count()};
      if (sink.unanswerable) sink.unanswerable(u);
      report.unanswerable_refused += u.refused;
      report.unanswerable.push_back(std::move(u));
      advance(q.id);
    }
  }

  // Means; judge metrics over the questions that have them.
  AnswerScores& m = report.mean;
  double faith = 0, rel = 0, cites = 0;
  for (const auto& r : report.records) {
    const AnswerScores& s = r.scores;
    m.context_recall_exact += s.context_recall_exact;
    m.context_recall_normalized += s.context_recall_normalized;
    m.exact_match += s.exact_match;
    m.f1 += s.f1;
    m.reference_recall += s.reference_recall;
    if (s.citation_accuracy) cites += *s.citation_accuracy, ++report.judged_citations;
    m.rouge1 += s.rouge1;
    m.rouge2 += s.rouge2;
    m.rougeL += s.rougeL;
    m.rougeS += s.rougeS;
    m.semantic_similarity += s.semantic_similarity;
    if (s.faithfulness) faith += *s.faithfulness, ++report.judged_faithfulness;
    if (s.answer_relevancy) rel += *s.answer_relevancy, ++report.judged_relevancy;
  }
  const double n = static_cast<double>(report.records.size());
  if (report.judged_citations) m.citation_accuracy = cites / report.judged_citations;
  for (double* v : {&m.context_recall_exact, &m.context_recall_normalized, &m.exact_match, &m.f1,
                    &m.reference_recall, &m.rouge1, &m.rouge2,
                    &m.rougeL, &m.rougeS, &m.semantic_similarity})
    *v /= n;
  if (report.judged_faithfulness) m.faithfulness = faith / report.judged_faithfulness;
  if (report.judged_relevancy) m.answer_relevancy = rel / report.judged_relevancy;
  report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return report;
}

std::string AnswerMetricsSvg(const AnswerEvalReport& report) {
  const auto& names = AnswerMetricNames();
  const int row = 34, left = 210, width = 460, top = 40;
  const int height = top + row * static_cast<int>(names.size()) + 40;
  auto x = [&](double v) { return left + v * width; };
  char buf[512];
  std::string svg;
  std::snprintf(buf, sizeof buf,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
                "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                "<text x=\"10\" y=\"20\" font-size=\"14\">ragd eval answers: %zu questions, knowledge base %s</text>\n",
                left + width + 30, height, report.records.size(), report.kb.c_str());
  svg += buf;
  for (int t = 0; t <= 10; t += 2) {
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                  "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#666\">%.1f</text>\n",
                  x(t / 10.0), top - 8, x(t / 10.0), height - 30, x(t / 10.0), height - 14, t / 10.0);
    svg += buf;
  }
  for (size_t i = 0; i < names.size(); ++i) {
    std::vector<double> v;
    for (const auto& r : report.records)
      if (auto m = AnswerMetric(r.scores, names[i])) v.push_back(std::clamp(*m, 0.0, 1.0));
    const int y = top + row * static_cast<int>(i) + row / 2;
    std::snprintf(buf, sizeof buf, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 10, y + 4,
                  names[i].c_str());
    svg += buf;
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    auto q = [&](double p) { return v[static_cast<size_t>(std::round(p * (v.size() - 1)))]; };
    double mean = 0;
    for (double d : v) mean += d;
    mean /= v.size();
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#555\"/>"
                  "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#c9d8f3\" stroke=\"#1a56db\"/>"
                  "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#1a56db\" stroke-width=\"2\"/>"
                  "<circle cx=\"%.1f\" cy=\"%d\" r=\"3.5\" fill=\"#b42318\"/>\n",
                  x(v.front()), y, x(v.back()), y, x(q(0.25)), y - 9, std::max(1.0, x(q(0.75)) - x(q(0.25))), 18,
                  x(q(0.5)), y - 9, x(q(0.5)), y + 9, x(mean), y);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf,
                "<text x=\"10\" y=\"%d\" fill=\"#666\">box: quartiles, line: median, whiskers: min-max, "
                "red dot: mean</text>\n</svg>\n",
                height - 2);
  svg += buf;
  return svg;
}

}  // namespace ragd
