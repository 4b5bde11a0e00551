"""Name lists for :mod:`loupe.privacy.detectors.names`, written for Loupe.

Common given names and family names across the locales Loupe ships with
(English, German, French, Spanish/Portuguese, Italian, Dutch, Polish, Turkish,
Arabic, Indian, Chinese pinyin, Japanese, Korean, Vietnamese), plus Chinese
family-name and given-name characters. They were written by hand from general
knowledge, not copied from a corpus; they are cues, not a census, so a name
missing here can still be found from context ("call …", "Dr …").
"""

from __future__ import annotations

# Turkish and Polish names use letters that look like ASCII ones, on purpose.

__all__ = [
    "AMBIGUOUS_GIVEN",
    "CJK_GIVEN_CHARS",
    "CJK_SURNAMES",
    "FAMILY_NAMES",
    "GIVEN_NAMES",
    "NOT_NAMES",
    "ORG_WORDS",
    "PARTICLES",
    "PLACE_WORDS",
    "TITLE_WORDS",
]


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


GIVEN_NAMES: frozenset[str] = _words(
    """
    James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel
    Matthew Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy
    Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin
    Scott Brandon Benjamin Samuel Gregory Alexander Patrick Frank Raymond Jack Dennis Jerry
    Tyler Aaron Jose Adam Nathan Henry Zachary Douglas Peter Kyle Noah Ethan Jeremy Walter
    Christian Keith Roger Terry Austin Sean Gerald Carl Harold Dylan Arthur Lawrence Jordan
    Jesse Bryan Billy Bruce Gabriel Joe Logan Alan Juan Albert Willie Elijah Wayne Randy Vincent
    Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty
    Sandra Margaret Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie
    Dorothy Rebecca Sharon Laura Cynthia Amy Kathleen Angela Shirley Brenda Emma Anna Pamela
    Nicole Samantha Katherine Christine Helen Debra Rachel Carolyn Janet Maria Catherine Heather
    Diane Olivia Julie Joyce Victoria Ruth Virginia Lauren Kelly Christina Joan Evelyn Judith
    Andrea Hannah Megan Cheryl Jacqueline Martha Madison Teresa Gloria Sara Janice Ann Kathryn
    Abigail Sophia Frances Jean Alice Judy Isabella Julia Beverly Denise Marilyn Amber Danielle
    Charlotte Natalie Diana Brittany Theresa Kayla Alexis Lori Marie Ava Mia Chloe Zoe Lily
    Oliver Harry Charlie Oscar Leo Alfie Freddie Archie Theo Isaac Lucas Finley Harrison
    Sebastian Amelia Isla Poppy Freya Florence Evie Ella Millie Rosie Imogen Phoebe Harriet
    Eleanor Niamh Siobhan Aoife Ciaran Declan Eoin Seamus Fiona Ailsa Callum Euan Rhys Gareth
    Dafydd Cerys Lukas Leon Finn Jonas Elias Felix Maximilian Paul Moritz Niklas Jan Tim Tobias
    Florian Stefan Andreas Markus Matthias Christoph Sebastian Alexander Thomas Michael Wolfgang
    Klaus Jürgen Dieter Uwe Hans Günter Helmut Horst Manfred Werner Heinz Karl Frank Jörg Ralf
    Sven Dirk Lena Leonie Lea Laura Hannah Sophie Marie Lina Mila Emilia Johanna Katharina Julia
    Sabine Petra Claudia Monika Ursula Renate Birgit Heike Andrea Susanne Kerstin Anke Silke Ute
    Gisela Ingrid Brigitte Helga Karin Angelika Jutta Gabriele Stefanie Nicole Jana Franziska
    Carina Jean Pierre Michel Philippe Alain Nicolas Christophe Patrick Laurent Julien Olivier
    Antoine François Thierry Éric Frédéric Sébastien Guillaume Mathieu Romain Maxime Hugo Louis
    Gabriel Arthur Raphaël Jules Adam Théo Enzo Nathan Mathis Clément Baptiste Quentin Benoît
    Yves Marie Nathalie Isabelle Sylvie Catherine Françoise Christine Valérie Sandrine Céline
    Sophie Julie Camille Léa Manon Chloé Inès Jade Louise Alice Lina Élodie Aurélie Émilie
    Mathilde Margaux Pauline Amélie Juliette Hélène Brigitte Monique Chantal Dominique Véronique
    Nadia José Antonio Manuel Francisco David Juan Javier Daniel Carlos Jesús Alejandro Miguel
    Rafael Pedro Pablo Ángel Sergio Fernando Jorge Luis Alberto Álvaro Diego Adrián Raúl Enrique
    Ramón Vicente Andrés Joaquín Santiago Rubén Óscar Ignacio Emilio Gonzalo Mateo Martín Hugo
    Iker Carmen Josefa Isabel Dolores Pilar Teresa Ana Cristina Marta Francisca Lucía Antonia
    Mercedes Rosa Elena Laura Paula Raquel Beatriz Rocío Silvia Patricia Sara Alba Nuria Irene
    Inmaculada Montserrat Concepción Yolanda Esther Eva Noelia Sofía Valeria Martina Daniela
    Alicia Lorena João Gonçalo Tiago Rodrigo Diogo Afonso Duarte Rui Nuno Inês Beatriz Mariana
    Leonor Catarina Giuseppe Giovanni Francesco Luca Marco Andrea Alessandro Matteo Lorenzo
    Leonardo Riccardo Stefano Roberto Paolo Davide Simone Federico Fabio Massimo Giorgio
    Salvatore Vincenzo Luigi Giulia Chiara Francesca Sara Martina Valentina Alessia Federica
    Elisa Silvia Paola Roberta Giovanna Rosa Angela Anna Lucia Aurora Ginevra Beatrice Greta
    Bianca Carla Ilaria Serena Daan Sem Bram Lars Jesse Thijs Ruben Sven Joost Pieter Bas Sanne
    Lotte Fleur Anouk Femke Piotr Krzysztof Andrzej Tomasz Paweł Marcin Michał Grzegorz Jakub
    Kamil Łukasz Wojciech Anna Katarzyna Małgorzata Agnieszka Joanna Ewa Magdalena Zofia Barbara
    Dorota Aleksandra Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim Emre Murat Burak Elif
    Zeynep Ayşe Fatma Emine Merve Esra Mohammed Muhammad Mohamed Ahmed Ahmad Omar Youssef Yusuf
    Ibrahim Khalid Hassan Hussein Karim Tariq Bilal Hamza Samir Nabil Rami Fatima Aisha Maryam
    Layla Leila Yasmin Nour Amira Salma Huda Zainab Khadija Rania Dina Hana Rahul Amit Rohit
    Vikram Arjun Rajesh Suresh Ramesh Sanjay Anil Sunil Vijay Ravi Deepak Arun Manoj Ajay Nikhil
    Aditya Karan Sachin Pradeep Harish Venkat Srinivas Krishna Aarav Vivaan Ishaan Priya Pooja
    Neha Anjali Sunita Kavita Anita Deepa Divya Lakshmi Meera Nisha Shreya Ananya Aditi Swati
    Rekha Geeta Sita Radha Aishwarya Kiran Wei Fang Lei Jun Yang Yong Jie Tao Ming Chao Hui Hua
    Ying Xin Yan Ling Jing Li Na Min Qiang Jian Hong Ping Gang Bo Hao Yu Xiaoming Xiaoli Jianguo
    Zhiwei Xiuying Guiying Yuzhen Haruto Yuto Sota Ren Hiroshi Takashi Kenji Yuki Akira Satoshi
    Yui Sakura Haruka Aoi Yuna Minjun Seojun Jiho Jiwoo Seoyeon Jiwoo Minseo Hyun Jisoo Jiyeon
    Sooyoung Minh Anh Linh Huong Thanh Tuan Hung Duc Trang Phuong Mai Lan Ivan Dmitri Sergei
    Alexei Vladimir Nikolai Andrei Olga Natasha Tatiana Svetlana Irina Elena Ekaterina Anastasia
    Oksana Yuliya Igor Oleg Mikhail Pavel Boris
    """
)


FAMILY_NAMES: frozenset[str] = _words(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
    Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Evans Turner
    Phillips Parker Collins Edwards Stewart Morris Murphy Cook Rogers Morgan Peterson Cooper
    Reed Bailey Bell Gomez Kelly Howard Ward Cox Diaz Richardson Wood Watson Brooks Bennett Gray
    James Reyes Cruz Hughes Price Myers Long Foster Sanders Ross Morales Powell Sullivan Russell
    Ortiz Jenkins Gutierrez Perry Butler Barnes Fisher Henderson Coleman Simmons Patterson
    Jordan Reynolds Hamilton Graham Kim Wallace Hunt Black Palmer Holmes Knight Lloyd Owen
    Hughes Davies Jenkins Shaw Ellis Wilkinson Chapman Webb Mason Hunter Stevens Marshall Hudson
    Fletcher O'Brien O'Connor O'Neill O'Sullivan Byrne Ryan Walsh McCarthy Doyle Kennedy Lynch
    Murray McDonald MacDonald Campbell Stewart Robertson Thomson Reid Fraser Ross Paterson Jones
    Morgan Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer
    Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann
    Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler
    Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn
    Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke
    Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger
    Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn
    Kühn Pohl Engel Horn Bernard Dubois Durand Lefebvre Leroy Moreau Simon Laurent Michel Garcia
    David Bertrand Roux Vincent Fournier Morel Girard André Mercier Dupont Lambert Bonnet
    François Martinez Legrand Garnier Faure Rousseau Blanc Guerin Muller Henry Roussel Nicolas
    Perrin Morin Mathieu Clement Gauthier Dumont Lopez Fontaine Chevalier Robin Masson Sanchez
    Gerard Nguyen Boyer Denis Lemaire Duval Joly Gautier Roger Roche Roy Noel Meyer Lucas
    Meunier Jean Perez Marchand Dufour Blanchard Marie Barbier Brun Dumas Brunet Schmitt Leroux
    Colin Fernandez Renard Arnaud García Rodríguez González Fernández López Martínez Sánchez
    Pérez Gómez Martín Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez
    Navarro Torres Domínguez Vázquez Ramos Gil Ramírez Serrano Blanco Molina Morales Suárez
    Ortega Delgado Castro Ortiz Rubio Marín Sanz Núñez Iglesias Medina Garrido Cortés Castillo
    Santos Lozano Guerrero Cano Prieto Méndez Cruz Calvo Gallego Vidal León Márquez Herrera Peña
    Flores Cabrera Campos Vega Fuentes Carrasco Diez Caballero Reyes Nieto Aguilar Pascual
    Santana Herrero Lorenzo Montero Hidalgo Giménez Silva Santos Ferreira Pereira Oliveira Costa
    Rodrigues Martins Jesus Sousa Fernandes Gonçalves Gomes Lopes Marques Alves Almeida Ribeiro
    Pinto Carvalho Teixeira Moreira Correia Mendes Rossi Russo Ferrari Esposito Bianchi Romano
    Colombo Ricci Marino Greco Bruno Gallo Conti DeLuca Costa Giordano Mancini Rizzo Lombardi
    Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso Ferrara Galli Martini Leone Longo
    Gentile Martinelli Vitale Lombardo Serra Coppola DeJong Jansen DeVries VanDijk Bakker
    Janssen Visser Smit Meijer DeBoer Mulder DeGroot Bos Vos Peters Hendriks Dekker Brouwer
    Dijkstra Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański
    Woźniak Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Piotrowski Grabowski
    Nowakowski Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan
    Kılıç Hassan Hussein Ali Mohamed Ahmed Abdullah Rahman Khan Malik Hussain Iqbal Aziz Haddad
    Khoury Mansour Nasser Saleh Farah Hamdan Sharma Verma Gupta Singh Kumar Patel Shah Mehta
    Joshi Reddy Rao Nair Iyer Menon Pillai Das Banerjee Chatterjee Mukherjee Bose Ghosh Sen
    Chopra Kapoor Malhotra Agarwal Jain Desai Kulkarni Yadav Mishra Pandey Tiwari Chaudhary
    Bhatt Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Gao Lin Luo
    Zheng Liang Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Yuan Pan Cai Jiang Yu
    Du Ye Cheng Wei Su Lu Ding Ren Shen Yao Lu Jiang Cui Zhong Tan Wong Chan Leung Cheung Lau
    Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada
    Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Kim Lee Park Choi Jung Kang Cho Yoon
    Jang Lim Han Oh Seo Shin Kwon Hwang Ahn Song Nguyen Tran Le Pham Hoang Phan Vu Dang Bui Do
    Ho Ngo Duong Ly Ivanov Smirnov Kuznetsov Popov Vasiliev Petrov Sokolov Mikhailov Novikov
    Fedorov Morozov Volkov Alekseev Lebedev Semenov Egorov Pavlov Kozlov
    """
)


# Given names that are also everyday words; alone and without a cue they are not names.
AMBIGUOUS_GIVEN: frozenset[str] = _words(
    """
    Will Mark May June April August Grace Hope Faith Joy Rose Lily Daisy Ruby Amber Pearl Iris
    Bill Frank Art Guy Pat Sue Jack Joe Sunny Summer Autumn Dawn Eve Crystal Harmony Heather
    Jordan Austin Dallas Paris Florence Victoria Chase Hunter Mason Carter Cooper Parker Wood
    Long Young King Green Black White Brown Gray Bell Price Hill Cook Rich Angel Christian Ali
    Jean Marie Louis Martin Simon Henry Thomas Paul Roger Vincent Nicolas David Lucas Li Na Ma
    Lu Yu He Ye Du Gao Hu Lin Bo Yan Jun Min Ren Song Han Oh Do Ho Le Ly Vu Sen Das Ren Ming Wei
    Long Ling Mai Lan Hong Ping Sol Jung Park Kim Lee Bruno Otto Engel Wolf Roth Stein Winter
    Sommer Lange Klein Kraus Horn Graf Haas Vogel Fuchs Keller Koch Bauer Kaiser Serra Leone
    Vega Campos Fuentes Blanco Castro Cruz Santos Rosa Flores Gallo Bianca Serena
    Mercedes Zara Queen Wild Porsche Ferrari Ford Tesla Dell Disney Boeing Gucci Prada Chanel
    Armani Dior Cartier Honda Toyota Mazda Nike Adidas Puma Lidl Aldi Siemens Bosch Philips
    """
)


# Capitalised words that start sentences or name things, never people.
NOT_NAMES: frozenset[str] = _words(
    """
    I A An The This That These Those My Your His Her Our Their Its We You He She They It Hi
    When Where What Why How Who Whom Whose Which If Then Also Only Just Here There Now Once
    Usually Normally Sometimes Often Never Always Maybe Perhaps After Before While Since
    Hello Hey Dear Thanks Thank Please Yes No Ok Okay Sure Sorry Call Text Message Email Ring
    Phone Ask Tell Remind Meet Send Write Contact Ping Invite Book Schedule Set Add Show Find
    Play Open Turn Get Take Make Let Can Could Would Should Will Did Do Does Is Are Was Monday
    Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July
    August September October November December Today Tomorrow Yesterday Tonight Mom Mum Dad
    Mother Father Mama Papa Grandma Grandpa Granny Sister Brother Aunt Uncle Boss Home Work
    Office Team Support Sales Service Customer Client Doctor Nurse Patient Hospital Street Road
    Avenue Lane Drive Court Bank Card Account Number Phone Mobile Address Order Mr Mrs Ms Miss
    Dr Prof Sir Madam Herr Frau Mme Mlle Sr Sra Srta Don Doña Montag Dienstag Mittwoch
    Donnerstag Freitag Samstag Sonntag Januar Februar März Mai Juni Juli Oktober Dezember Heute
    Morgen Gestern Mama Papa Oma Opa Chef Arzt Ärztin Termin Nachricht Bitte Danke Hallo Ruf
    Rufe Schreib Schreibe Sag Frag Erinnere Ich Du Er Sie Es Wir Ihr Der Die Das Den Dem Ein
    Eine Mein Meine Dein Deine Kunde Kundin Büro Praxis Klinik Rechnung Lundi Mardi Mercredi
    Jeudi Vendredi Samedi Dimanche Janvier Février Mars Avril Juin Juillet Août Septembre
    Octobre Novembre Décembre Maman Bonjour Salut Merci Appelle Appeler Écris Envoie Dis Demande
    Rappelle Je Tu Il Elle Nous Vous Ils Elles Le La Les Un Une Mon Ma Mes Lunes Martes
    Miércoles Jueves Viernes Sábado Domingo Enero Febrero Marzo Abril Mayo Junio Julio Agosto
    Septiembre Octubre Noviembre Diciembre Hola Gracias Llama Escribe Manda Dile Pregunta
    Recuerda Yo Tú Él Ella Nosotros Ellos El Los Las Una Mi Mis Tu Su Abuela Abuelo Google Apple
    Microsoft Amazon Facebook Meta Netflix Spotify Uber Tesla Siri Alexa Cortana WhatsApp
    Telegram Signal Slack Zoom Teams Skype Gmail Outlook iPhone Android Windows Linux London
    Paris Berlin Madrid Rome Munich Hamburg Lyon Marseille Barcelona Valencia Sevilla Beijing
    Shanghai Shenzhen Guangzhou New York Boston Chicago Texas California Florida Europe Asia
    Africa America England Germany France Spain China India Italy Japan Korea English German
    French Spanish Chinese Italian Japanese Korean European American British Christmas Easter
    Ramadan Weihnachten Noël Navidad Covid OK PIN ID IBAN SSN VIN URL DOB MRN Visa Mastercard
    Amex PayPal Sparkasse Santander Barclays HSBC Lloyds
    """
)


CJK_SURNAMES: frozenset[str] = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤"
) | frozenset({"欧阳", "司马", "诸葛", "上官", "东方", "慕容", "司徒"})


CJK_GIVEN_CHARS: frozenset[str] = frozenset(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建文辉力鹏宇浩凯婷雪琳晨欣怡佳俊峰斌鑫晶"
    "颖慧嘉子梓涵轩然博睿思雨萱一国海志春金东云龙飞亮成彬宁颜琪璐瑶薇倩莉萍燕蕾芸洁晓梅琴丹波斌新"
    "林永兵宏健锋波毅德福祥安荣虎振岩坤晖旭阳昊天翔泽瑞铭哲皓宸奕楠诗语欣妍悦可馨彤菲珊蓉凤淑珍"
)


# Lower-case words that may sit inside a name ("van der", "de la", "bin").
PARTICLES: frozenset[str] = _words(
    """
    von van der den de del della di da du dos das la le bin ben al el ter ten zu vom y
    """
)


# Honorifics; stripped from a name and counted as strong evidence for what follows.
TITLE_WORDS: frozenset[str] = _words(
    """
    mr mrs ms miss mx dr prof sir dame lord lady herr herrn frau mme mlle monsieur madame
    mademoiselle sr sra srta señor señora señorita don doña dott sig signor signora
    """
)


# Words that make a capitalised run an organisation, not a person.
ORG_WORDS: frozenset[str] = _words(
    """
    Corp Corporation Inc Ltd Limited LLC GmbH AG SA SAS SARL SL Group Company Co Bank University
    Universität Université Universidad Hospital Clinic Klinikum Foundation Institute Insurance
    Airlines Motors Labs Systems Solutions Partners Associates Holdings Technologies Software
    Services Consulting Stiftung Verlag
    """
)


# Head words of places and buildings: a capitalised run ending in one ("Union Station",
# "Kölner Dom", "Gare du Nord") names a place, even when it starts with a person's name.
PLACE_WORDS: frozenset[str] = _words(
    """
    Station Square Street Road Avenue Boulevard Memorial Center Centre Airport Terminal
    Museum Cathedral Chapel Tower Gardens Palace Castle Lake River Mountain Beach Island Valley
    Bay Harbour Harbor Hotel Café Cafe Restaurant Pub Mall Market Supermarket School College
    Academy Library Theatre Theater Cinema Stadium Arena Zoo Gallery Abbey Temple Mosque
    Synagogue Plaza County City Town Village Province Republic Kingdom Airlines Railway
    Bahnhof Hauptbahnhof Platz Straße Strasse Allee Dom Kirche Schule Rathaus Markt Flughafen
    Gare Musée Église Pont Château Aéroport Calle Estación Museo Iglesia Catedral Puente
    Aeropuerto Mercado Parque Paseo Avenida Torre
    """
)
